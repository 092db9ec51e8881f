/**
 * Plugin packages are optional: each is imported by name at run time, and a method whose package
 * or export is missing is reported unavailable with the reason, never replaced by something else.
 */
import { getEncodingDefinition } from '@posenc/core';
import { MethodUnavailableError } from './methods.js';

// A specifier in a variable keeps tsc and bundlers from resolving the optional package statically.
const importByName = (specifier: string): Promise<Record<string, unknown>> => import(specifier);

const loaded = new Map<string, Promise<Record<string, unknown>>>();

/** The package's module; a MethodUnavailableError naming the package when it cannot be imported. */
export async function importPlugin(
  method: string,
  packageName: string,
): Promise<Record<string, unknown>> {
  let module = loaded.get(packageName);
  if (!module) {
    module = importByName(packageName);
    loaded.set(packageName, module);
  }
  try {
    return await module;
  } catch (e) {
    const code = (e as { code?: string } | null)?.code;
    const reason =
      code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(packageName)
        ? `${packageName} is not installed`
        : `${packageName} failed to load: ${firstLine(e)}`;
    throw new MethodUnavailableError(method, reason);
  }
}

/** The named exports, checked to be functions (classes included). */
export function requireExports<K extends string>(
  method: string,
  packageName: string,
  module: Record<string, unknown>,
  names: readonly K[],
): Record<K, (...args: never[]) => unknown> {
  const missing = names.filter((n) => typeof module[n] !== 'function');
  if (missing.length)
    throw new MethodUnavailableError(
      method,
      `${packageName} does not export ${missing.join(', ')}`,
    );
  return Object.fromEntries(names.map((n) => [n, module[n]])) as Record<
    K,
    (...args: never[]) => unknown
  >;
}

/** Checks that importing the package registered the encoding with core's registry. */
export function requireEncoding(method: string, packageName: string, encoding: string): void {
  try {
    getEncodingDefinition(encoding);
  } catch {
    throw new MethodUnavailableError(method, `${packageName} registers no '${encoding}' encoding`);
  }
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0]!;
}
