import { tf } from '../engine/tf.js';

/**
 * `tf.cumsum` with negative axes handled. TF.js 4.22 passes a negative axis straight to the
 * kernel, which returns a tensor of a wrong shape (`cumsum(x[2,3,1], -2)` has shape
 * `[undefined, 2, 3]`); use this instead of `tf.cumsum` in project code.
 */
export function cumsum(x: tf.Tensor, axis = 0, exclusive = false, reverse = false): tf.Tensor {
  const rank = x.rank;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank)
    throw new Error(
      `cumsum: axis = ${axis} is out of range for a rank-${rank} tensor; allowed −${rank}…${rank - 1}`,
    );
  return tf.cumsum(x, axis < 0 ? axis + rank : axis, exclusive, reverse);
}
