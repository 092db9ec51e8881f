/**
 * A small schema for plain configs. Every failure names the field, the value and what is
 * allowed, because configs come from users, CLIs and JSON files.
 */

export type FieldSpec =
  | {
      type: 'number';
      integer?: boolean;
      min?: number;
      max?: number;
      greaterThan?: number;
      default?: number;
      optional?: boolean;
      doc?: string;
    }
  | { type: 'boolean'; default?: boolean; optional?: boolean; doc?: string }
  | { type: 'enum'; values: readonly string[]; default?: string; optional?: boolean; doc?: string }
  | { type: 'string'; default?: string; optional?: boolean; doc?: string };

export type Schema = Record<string, FieldSpec>;

type FieldValue<F extends FieldSpec> = F extends { type: 'number' }
  ? number
  : F extends { type: 'boolean' }
    ? boolean
    : F extends { type: 'enum'; values: readonly (infer V)[] }
      ? V
      : string;

type IsRequired<F> = F extends { default: unknown }
  ? true
  : F extends { optional: true }
    ? false
    : true;

/** The parsed config type: fields with defaults or required fields are present; optional ones may be undefined. */
export type ConfigOf<S extends Schema> = {
  -readonly [K in keyof S as IsRequired<S[K]> extends true ? K : never]: FieldValue<S[K]>;
} & {
  -readonly [K in keyof S as IsRequired<S[K]> extends true ? never : K]?: FieldValue<S[K]>;
};

export class ConfigError extends Error {
  constructor(
    readonly owner: string,
    readonly field: string,
    readonly value: unknown,
    readonly allowed: string,
  ) {
    super(`${owner}: field '${field}' = ${show(value)} is not allowed; ${allowed}`);
    this.name = 'ConfigError';
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'undefined (missing)';
  if (typeof v === 'number') return String(v); // JSON would print NaN and Infinity as null
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

export function describeField(spec: FieldSpec): string {
  switch (spec.type) {
    case 'number': {
      const parts = [spec.integer ? 'an integer' : 'a finite number'];
      if (spec.min !== undefined) parts.push(`≥ ${spec.min}`);
      if (spec.greaterThan !== undefined) parts.push(`> ${spec.greaterThan}`);
      if (spec.max !== undefined) parts.push(`≤ ${spec.max}`);
      return parts.join(' ');
    }
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${spec.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'string':
      return 'a string';
  }
}

/**
 * Validates `input` against `schema`, fills defaults, and rejects unknown fields. `reserved`
 * fields (like the registry's `name`) are accepted and skipped.
 */
export function parseConfig<S extends Schema>(
  owner: string,
  schema: S,
  input: Record<string, unknown>,
  reserved: readonly string[] = [],
): ConfigOf<S> {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new ConfigError(owner, '(config)', input, 'expected a plain object');
  for (const key of Object.keys(input)) {
    if (!(key in schema) && !reserved.includes(key))
      throw new ConfigError(
        owner,
        key,
        input[key],
        `unknown field; allowed fields: ${Object.keys(schema).join(', ') || '(none)'}`,
      );
  }
  const out: Record<string, unknown> = {};
  for (const [field, spec] of Object.entries(schema)) {
    const raw = input[field];
    if (raw === undefined) {
      if (spec.default !== undefined) out[field] = spec.default;
      else if (!spec.optional)
        throw new ConfigError(owner, field, raw, `required: ${describeField(spec)}`);
      continue;
    }
    if (!fieldAccepts(spec, raw))
      throw new ConfigError(owner, field, raw, `expected ${describeField(spec)}`);
    out[field] = raw;
  }
  return out as ConfigOf<S>;
}

function fieldAccepts(spec: FieldSpec, v: unknown): boolean {
  switch (spec.type) {
    case 'number':
      return (
        typeof v === 'number' &&
        Number.isFinite(v) &&
        (!spec.integer || Number.isInteger(v)) &&
        (spec.min === undefined || v >= spec.min) &&
        (spec.max === undefined || v <= spec.max) &&
        (spec.greaterThan === undefined || v > spec.greaterThan)
      );
    case 'boolean':
      return typeof v === 'boolean';
    case 'enum':
      return typeof v === 'string' && spec.values.includes(v);
    case 'string':
      return typeof v === 'string';
  }
}
