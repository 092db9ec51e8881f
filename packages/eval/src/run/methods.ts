/**
 * Which method rows can run here. A plugin's rows are available when its package imports and has
 * what the row needs; one that cannot is listed with the reason, never replaced by something else.
 */
import type { MethodRow, SessionFactory } from './harness.js';

/** A method whose package (or a part of it) is not installed: listed, never faked. */
export class MethodUnavailableError extends Error {
  constructor(
    readonly method: string,
    readonly reason: string,
  ) {
    super(`method '${method}' is unavailable: ${reason}`);
    this.name = 'MethodUnavailableError';
  }
}

export type ResolvedRow<C, D, S> =
  | { row: MethodRow<C, D, S>; available: true; factory: SessionFactory<C, D, S> }
  | { row: MethodRow<C, D, S>; available: false; reason: string };

/** Prepares each row; one that cannot run carries the reason. */
export async function resolveRows<C, D, S>(
  rows: readonly MethodRow<C, D, S>[],
): Promise<ResolvedRow<C, D, S>[]> {
  const resolved: ResolvedRow<C, D, S>[] = [];
  for (const row of rows) {
    try {
      resolved.push({ row, available: true, factory: await row.prepare() });
    } catch (e) {
      // Anything else that breaks while loading a plugin (a package mid-rewrite) is reported too.
      const reason =
        e instanceof MethodUnavailableError
          ? e.reason
          : `${row.package} failed while preparing the method: ${String(e instanceof Error ? e.message : e).split('\n')[0]}`;
      resolved.push({ row, available: false, reason });
    }
  }
  return resolved;
}
