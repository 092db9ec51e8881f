/**
 * A run is named and guarded by the hash of its settings: a rerun with the same settings
 * continues the run, other settings never mix into it. Methods and seeds are not part of the
 * hash, so adding a method or a seed to a finished run trains only the new cells.
 */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted, so equal configs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** `posenc-bench/<task>/<version>`: the format of a task's run and results files. */
export function resultsFormat(task: string, version: number): string {
  return `posenc-bench/${task}/${version}`;
}

export function configHash(format: string, config: object): string {
  return createHash('sha256')
    .update(format)
    .update(canonicalJson(config))
    .digest('hex')
    .slice(0, 10);
}
