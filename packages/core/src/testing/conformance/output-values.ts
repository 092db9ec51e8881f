/** Hook outputs as plain numbers at their declared shapes, and the rearrangements checks compare. */
import type { HookInputs } from './fixtures.js';
import { disposeOutputs, expanded, type HookOutput } from './hook-outputs.js';

export interface OutputValues {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
  readonly queryAxis?: number;
}

/** Outputs at their declared shapes as numbers; frees the outputs (not passed-through inputs). */
export function valuesOf(outputs: HookOutput[], inputs: HookInputs | undefined): OutputValues[] {
  try {
    return outputs.map((o) => {
      const full = expanded(o);
      const values = full.dataSync() as Float32Array;
      full.dispose();
      return { name: o.name, shape: o.shape, values, queryAxis: o.queryAxis };
    });
  } finally {
    if (inputs) disposeOutputs(outputs, inputs);
  }
}

/** Values of `shape` with the first axis (the batch) reversed. */
export function reverseRows(values: Float32Array, shape: readonly number[]): Float32Array {
  const rows = shape[0]!;
  const width = values.length / rows;
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++)
    out.set(values.subarray(r * width, (r + 1) * width), (rows - 1 - r) * width);
  return out;
}

/** The last `n` entries along `axis` of values of `shape`. */
export function lastAlong(
  values: Float32Array,
  shape: readonly number[],
  axis: number,
  n: number,
): { values: Float32Array; shape: number[] } {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const length = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(outer * n * inner);
  for (let o = 0; o < outer; o++)
    out.set(
      values.subarray((o * length + length - n) * inner, (o * length + length) * inner),
      o * n * inner,
    );
  return { values: out, shape: shape.map((d, i) => (i === axis ? n : d)) };
}
