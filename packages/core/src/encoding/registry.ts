/**
 * Encodings are created by name from a plain config: `createEncoding({ name: 'alibi' })`.
 * Plugin packages register theirs on import; core registers the reference encodings.
 */
import {
  ConfigError,
  describeField,
  parseConfig,
  type ConfigOf,
  type Schema,
} from '../config/schema.js';
import type { PositionKind } from '../positions/positions.js';
import type { AttentionKind, PositionEncoding } from './position-encoding.js';

export interface EncodingConfig {
  name: string;
  [field: string]: unknown;
}

/**
 * A named configuration of an encoding that comparisons list as a method of its own: xPos is
 * RoPE with a decay, dynamic NTK is RoPE with a scaling. The plugin that knows the method says
 * so, so a benchmark builds its rows from the registry instead of a list of its own.
 */
export interface EncodingVariant {
  readonly name: string;
  readonly description: string;
  readonly paper?: string;
  readonly config: EncodingConfig;
}

/** What positions an encoding's hooks accept; others fail with a clear message. */
export interface PositionSupport {
  /** `1d` sequence ids and/or a `2d` grid (rows, columns and skip tokens). */
  readonly kinds: readonly PositionKind[];
  /** Whether non-integer positions are accepted (evaluated, interpolated or rounded, as the method defines). */
  readonly fractional: boolean;
}

/** A declaration that is either fixed or depends on the encoding's validated config. */
export type PerConfig<C, T> = T | ((config: C) => T);

export interface EncodingDefinition<S extends Schema = Schema> {
  readonly name: string;
  /** One-line description for `posenc list`. */
  readonly description: string;
  /** Citation, e.g. "Press et al. 2022, arXiv 2108.12409". */
  readonly paper?: string;
  /** npm package that registers it. */
  readonly package: string;
  readonly schema: S;
  /** Named configurations that comparisons list as methods of their own. */
  readonly variants?: readonly EncodingVariant[];
  /** Attention kinds the encoding works with: the one declaration its instances report. */
  readonly supports: PerConfig<ConfigOf<S>, readonly AttentionKind[]>;
  readonly positions: PerConfig<ConfigOf<S>, PositionSupport>;
  create(config: ConfigOf<S>): PositionEncoding;
}

/** The attention kinds `definition` declares for `config`. */
export function supportedAttention<S extends Schema>(
  definition: EncodingDefinition<S>,
  config: ConfigOf<S>,
): readonly AttentionKind[] {
  const { supports } = definition;
  return typeof supports === 'function' ? supports(config) : supports;
}

/** The positions `definition` declares its hooks accept for `config`. */
export function acceptedPositions<S extends Schema>(
  definition: EncodingDefinition<S>,
  config: ConfigOf<S>,
): PositionSupport {
  const { positions } = definition;
  return typeof positions === 'function' ? positions(config) : positions;
}

const definitions = new Map<string, EncodingDefinition>();

export function registerEncoding<S extends Schema>(definition: EncodingDefinition<S>): void {
  const existing = definitions.get(definition.name);
  if (existing && existing.package !== definition.package)
    throw new Error(
      `encoding '${definition.name}' is already registered by ${existing.package}; ${definition.package} cannot register it again`,
    );
  definitions.set(definition.name, definition as unknown as EncodingDefinition);
}

export function listEncodings(): EncodingDefinition[] {
  return [...definitions.values()];
}

export function getEncodingDefinition(name: string): EncodingDefinition {
  const def = definitions.get(name);
  if (!def)
    throw new ConfigError(
      'encoding',
      'name',
      name,
      `unknown encoding; registered: ${[...definitions.keys()].sort().join(', ') || '(none)'}`,
    );
  return def;
}

/** Validates the config against the encoding's schema and creates it. */
export function createEncoding(config: EncodingConfig): PositionEncoding {
  if (config === null || typeof config !== 'object' || typeof config.name !== 'string')
    throw new ConfigError(
      'encoding',
      'name',
      (config as { name?: unknown } | null)?.name,
      'expected an encoding name string',
    );
  return createFromDefinition(getEncodingDefinition(config.name), config);
}

/** Validates `config` (its `name`, if any, is skipped) against a definition's schema and creates the encoding. */
export function createFromDefinition<S extends Schema>(
  definition: EncodingDefinition<S>,
  config: Record<string, unknown>,
): PositionEncoding {
  const parsed = parseConfig(`encoding '${definition.name}'`, definition.schema, config, ['name']);
  return definition.create(parsed);
}

/** Human-readable field list of an encoding's schema (for `--help`). */
export function describeEncodingConfig(name: string): string[] {
  const def = getEncodingDefinition(name);
  return Object.entries(def.schema).map(
    ([field, spec]) =>
      `${field}: ${describeField(spec)}${spec.default !== undefined ? ` (default ${JSON.stringify(spec.default)})` : ''}${spec.doc ? ` — ${spec.doc}` : ''}`,
  );
}
