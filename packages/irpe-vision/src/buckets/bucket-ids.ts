/**
 * Bucket ids of iRPE's four 2D methods (Wu et al. 2021, §3.2 Eq. 19–25), as the official code
 * computes them (`get_bucket_ids_2d` in microsoft/Cream `iRPE/DeiT-with-iRPE/irpe.py`): the id
 * of (query i, key j) is a function of the offset p_i − p_j = (Δr, Δc) on a row-major
 * height × width grid.
 *
 * - euc: g(round(√(Δr² + Δc²))) + ⌊β⌋, undirected;
 * - quant: g(Δr² + Δc²) + ⌊β⌋: the code feeds the squared distance into g where the paper's
 *   Eq. 21 ranks the distinct distances (its `quantize_values` is never called);
 * - cross: two tables, g(Δr) + ⌊β⌋ for rows and g(Δc) + ⌊β⌋ for columns, their terms summed;
 * - product: (g(Δr) + ⌊β⌋)·S + g(Δc) + ⌊β⌋ with S = 2⌊β⌋ + 1, directed.
 *
 * Every method's table has 2⌊β⌋ + 1 buckets (product: S²), sized as the code sizes them, so
 * euc and quant never use their negative half. Skip tokens (class, distillation) all share one
 * extra bucket, id = that count, in their rows and columns.
 */
import { piecewiseIndex, roundHalfEven, type PiecewiseCoefficients } from './piecewise-index.js';

/** The 2D methods of the paper, by the official code's names. */
export const IRPE_METHODS = ['euc', 'quant', 'cross', 'product'] as const;
export type IrpeMethod = (typeof IRPE_METHODS)[number];

/** A table's bucket function: cross has two (rows and columns), the others one. */
export type BucketFunction = 'euc' | 'quant' | 'product' | 'cross_rows' | 'cross_cols';

export function bucketFunctionsOf(method: IrpeMethod): readonly BucketFunction[] {
  return method === 'cross' ? ['cross_rows', 'cross_cols'] : [method];
}

/** Buckets of a table without the skip tokens' one (`get_num_buckets`). */
export function gridBuckets(fn: BucketFunction, c: PiecewiseCoefficients): number {
  const betaInt = Math.trunc(c.beta);
  return fn === 'product' ? (2 * betaInt + 1) ** 2 : 2 * betaInt + 1;
}

/** Buckets of a table, with one for the skip tokens when there are some. */
export function tableBuckets(fn: BucketFunction, c: PiecewiseCoefficients, skip: number): number {
  return gridBuckets(fn, c) + (skip > 0 ? 1 : 0);
}

const f32 = Math.fround;

function bucketOfOffset(
  fn: BucketFunction,
  dr: number,
  dc: number,
  c: PiecewiseCoefficients,
): number {
  const betaInt = Math.trunc(c.beta);
  switch (fn) {
    case 'euc':
      // `diff.square().sum(2).float().sqrt().round()`: float32, then g of the rounded distance.
      return piecewiseIndex(roundHalfEven(f32(Math.sqrt(dr * dr + dc * dc))), c) + betaInt;
    case 'quant':
      return piecewiseIndex(dr * dr + dc * dc, c) + betaInt;
    case 'cross_rows':
      return piecewiseIndex(dr, c) + betaInt;
    case 'cross_cols':
      return piecewiseIndex(dc, c) + betaInt;
    case 'product':
      return (
        (piecewiseIndex(dr, c) + betaInt) * (2 * betaInt + 1) + piecewiseIndex(dc, c) + betaInt
      );
  }
}

/** Ids of the grid tokens, `[L·L]` row-major (L = height·width), cached per (fn, α, β, γ, h, w). */
const gridCache = new Map<string, Int32Array>();

function gridIds(
  fn: BucketFunction,
  c: PiecewiseCoefficients,
  height: number,
  width: number,
): Int32Array {
  const key = `${fn}:${c.alpha}:${c.beta}:${c.gamma}:${height}x${width}`;
  let ids = gridCache.get(key);
  if (ids) return ids;
  const n = height * width;
  ids = new Int32Array(n * n);
  // Offsets repeat across the grid: g is evaluated once per distinct (Δr, Δc).
  const byOffset = new Map<number, number>();
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const dr = Math.floor(i / width) - Math.floor(j / width);
      const dc = (i % width) - (j % width);
      const offsetKey = (dr + height) * (2 * width + 1) + (dc + width);
      let id = byOffset.get(offsetKey);
      if (id === undefined) {
        id = bucketOfOffset(fn, dr, dc, c);
        byOffset.set(offsetKey, id);
      }
      ids[i * n + j] = id;
    }
  gridCache.set(key, ids);
  return ids;
}

/**
 * Bucket ids `[N·N]` row-major (N = skip + height·width; row = query) of a table: the grid's ids,
 * and the extra bucket in the first `skip` rows and columns.
 */
export function bucketIds(
  fn: BucketFunction,
  c: PiecewiseCoefficients,
  height: number,
  width: number,
  skip: number,
): Int32Array {
  for (const [field, v, min] of [
    ['height', height, 1],
    ['width', width, 1],
    ['skip', skip, 0],
  ] as const)
    if (!Number.isInteger(v) || v < min)
      throw new Error(
        `iRPE bucket ids: ${field} = ${v} is not allowed; expected an integer ≥ ${min}`,
      );
  const grid = gridIds(fn, c, height, width);
  if (skip === 0) return grid;
  const cells = height * width;
  const n = skip + cells;
  const extra = gridBuckets(fn, c);
  const ids = new Int32Array(n * n).fill(extra);
  for (let i = 0; i < cells; i++)
    ids.set(grid.subarray(i * cells, (i + 1) * cells), (skip + i) * n + skip);
  return ids;
}
