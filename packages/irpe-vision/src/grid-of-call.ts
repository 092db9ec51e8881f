/**
 * The grid an attention call runs on. iRPE's bucket ids are functions of the offsets on a full
 * row-major height × width grid (the official code takes height and width as arguments and never
 * reads positions), so a call must pass both explicitly and its positions must be such a grid,
 * each batch row possibly shifted as a whole (offsets do not change). Positions are read back
 * once per tensor; a model makes one set per forward pass and every layer shares it.
 */
import type { AttentionContext, GridPositions, GridShape, Positions } from '@posenc/core';

const checked = new WeakMap<object, true>();

function isShiftedRaster(p: GridPositions, width: number): boolean {
  const rows = p.rows.dataSync();
  const cols = p.cols.dataSync();
  const cells = p.rows.shape[1];
  for (let b = 0; b < p.rows.shape[0]; b++) {
    const r0 = rows[b * cells]!;
    const c0 = cols[b * cells]!;
    for (let i = 0; i < cells; i++)
      if (
        rows[b * cells + i] !== r0 + Math.floor(i / width) ||
        cols[b * cells + i] !== c0 + (i % width)
      )
        return false;
  }
  return true;
}

function gridOf(p: Positions, tokens: number, side: string): GridShape {
  const who = `irpe (${side})`;
  if (p.kind !== '2d')
    throw new Error(`${who}: needs 2D grid positions (rows, columns, skip tokens); got 1D ids`);
  const { height, width, skip } = p;
  if (height === undefined || width === undefined)
    throw new Error(
      `${who}: grid positions must state their height and width (a full row-major grid); iRPE does not guess a square`,
    );
  if (skip + height * width !== tokens || p.rows.shape[1] !== height * width)
    throw new Error(
      `${who}: positions describe ${skip} skip + ${height}×${width} grid tokens (${p.rows.shape[1]} given); the call has ${tokens} tokens`,
    );
  if (!checked.has(p.rows)) {
    if (!isShiftedRaster(p, width))
      throw new Error(
        `${who}: positions are not a ${height}×${width} row-major grid of integer cells (each batch row may be shifted as a whole); iRPE's buckets need one`,
      );
    checked.set(p.rows, true);
  }
  return { height, width, skip };
}

/** The grid of a self-attention call with `tokens` queries and keys. */
export function gridOfCall(ctx: AttentionContext, tokens: number): GridShape {
  const grid = gridOf(ctx.queryPositions, tokens, 'queries');
  if (ctx.keyPositions !== ctx.queryPositions) {
    const keys = gridOf(ctx.keyPositions, tokens, 'keys');
    const q = ctx.queryPositions as GridPositions;
    const k = ctx.keyPositions as GridPositions;
    const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
      a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => v === b[i]);
    if (
      keys.skip !== grid.skip ||
      !same(q.rows.dataSync(), k.rows.dataSync()) ||
      !same(q.cols.dataSync(), k.cols.dataSync())
    )
      throw new Error(
        'irpe: keys have other positions than the queries; iRPE is self-attention over one grid',
      );
  }
  return grid;
}
