/**
 * Extending a learned absolute position table to r times its length by linear interpolation
 * (Karypis, McAuley & Karypis 2024, §3): the original rows sit at multiples of r and the rows in
 * between interpolate their neighbours. Row j of the new table is
 *
 *   P′[j] = P[i] + (k/r)·(P[i+1] − P[i]),  i = ⌊j/r⌋, k = j mod r,
 *
 * and rows past the last pair (i = Lt − 1) repeat P[Lt − 1].
 */
import { tf } from '@posenc/core';

/** The `[r·T, C]` interpolation of `table` `[T, C]`; r must be an integer ≥ 1. */
export function interpolatePositionTable(table: tf.Tensor2D, r: number): tf.Tensor2D {
  if (!Number.isInteger(r) || r < 1)
    throw new Error(`interpolatePositionTable: r = ${r} is not allowed; expected an integer ≥ 1`);
  if (table.rank !== 2 || table.shape[0] < 1)
    throw new Error(
      `interpolatePositionTable: table must be [T, C] with T ≥ 1, got shape [${table.shape}]`,
    );
  const rows = table.shape[0];
  const size = rows * r;
  const lower = new Int32Array(size);
  const upper = new Int32Array(size);
  const fraction = new Float32Array(size);
  for (let j = 0; j < size; j++) {
    const i = Math.floor(j / r);
    lower[j] = i;
    // Past the last pair the "next" row is the last row itself, so P′[j] = P[T − 1].
    upper[j] = Math.min(i + 1, rows - 1);
    fraction[j] = (j % r) / r;
  }
  return tf.tidy(() => {
    const p = tf.gather(table, tf.tensor1d(lower, 'int32'));
    const next = tf.gather(table, tf.tensor1d(upper, 'int32'));
    return tf.add(p, tf.mul(tf.tensor2d(fraction, [size, 1]), tf.sub(next, p)));
  }) as tf.Tensor2D;
}
