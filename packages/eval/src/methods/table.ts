/**
 * Every method the benchmark knows, in report order, and their availability: a plugin's rows are
 * available when its package imports and has what the row needs.
 */
import { coreMethods } from './core-methods.js';
import { MethodUnavailableError, type LMMethod, type MethodFactory } from './method.js';
import { roformerMethods } from './roformer-methods.js';
import { segmentedMethods } from './segmented-methods.js';
import { shortformerMethods } from './shortformer-methods.js';

export function allMethods(): LMMethod[] {
  return [...coreMethods(), ...roformerMethods(), ...shortformerMethods(), ...segmentedMethods()];
}

export type ResolvedMethod =
  | { method: LMMethod; available: true; factory: MethodFactory }
  | { method: LMMethod; available: false; reason: string };

/** Prepares each method; one that cannot run carries the reason. */
export async function resolveMethods(
  methods: readonly LMMethod[] = allMethods(),
): Promise<ResolvedMethod[]> {
  const resolved: ResolvedMethod[] = [];
  for (const method of methods) {
    try {
      resolved.push({ method, available: true, factory: await method.prepare() });
    } catch (e) {
      // Anything else that breaks while loading a plugin (a package mid-rewrite) is reported too.
      const reason =
        e instanceof MethodUnavailableError
          ? e.reason
          : `${method.package} failed while preparing the method: ${String(e instanceof Error ? e.message : e).split('\n')[0]}`;
      resolved.push({ method, available: false, reason });
    }
  }
  return resolved;
}
