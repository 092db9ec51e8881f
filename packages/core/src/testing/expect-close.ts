/**
 * One closeness check for numbers, arrays (nested or typed) and tensors. It throws a plain Error,
 * so the conformance checks use it outside of vitest too.
 */
import { tf } from '../engine/tf.js';

export type Numbers = number | ArrayLike<number> | tf.Tensor | readonly Numbers[];

/** |actual − expected| ≤ atol + rtol·|expected|, element by element; both default to 0. */
export interface Tolerance {
  readonly atol?: number;
  readonly rtol?: number;
}

/** Throws unless `actual` and `expected` have as many values and each pair is within tolerance. */
export function expectClose(
  actual: Numbers,
  expected: Numbers,
  tolerance: Tolerance,
  label = 'value',
): void {
  const a = flatten(actual);
  const e = flatten(expected);
  if (a.length !== e.length) throw new Error(`${label}: ${a.length} values, expected ${e.length}`);
  const { atol = 0, rtol = 0 } = tolerance;
  for (let i = 0; i < e.length; i++) {
    const allowed = atol + rtol * Math.abs(e[i]!);
    const bothNaN = Number.isNaN(a[i]!) && Number.isNaN(e[i]!);
    if (!bothNaN && !(Math.abs(a[i]! - e[i]!) <= allowed))
      throw new Error(
        `${label}[${i}] = ${a[i]}, expected ${e[i]} (|difference| ${Math.abs(a[i]! - e[i]!)} > allowed ${allowed})`,
      );
  }
}

function flatten(x: Numbers): number[] {
  if (typeof x === 'number') return [x];
  if (x instanceof tf.Tensor) return Array.from(x.dataSync() as ArrayLike<number>);
  if (Array.isArray(x)) return (x as readonly Numbers[]).flatMap(flatten);
  return Array.from(x as ArrayLike<number>);
}
