/**
 * A gather along the last axis by one index shared by every leading position, and its adjoint,
 * the scatter-add. Relative position methods read a per-bucket tensor at bucket ids this way
 * (iRPE's contextual terms: `[B,H,L·nb]` read at `i·nb + bucket(i,j)`, the official `rpe_index`
 * op), and sum probabilities per bucket with the scatter-add. Each is the other's gradient.
 *
 * Composed of TF.js ops, the gather's gradient is a transpose, an UnsortedSegmentSum over the
 * first axis and a transpose back, three passes over the largest tensor. An engine may register
 * the two kernels to do each in one pass:
 *
 * - `PosencGatherLast`: inputs `x` (float32 `[…, S]`) and `index` (int32 `[P]`, every value in
 *   [0, S)); output `[…, P]`, `y[…, p] = x[…, index[p]]`.
 * - `PosencScatterAddLast`: inputs `x` (float32 `[…, P]`) and `index` (int32 `[P]`, every value
 *   in [0, S)); attribute `size` (S); output `[…, S]`, `y[…, s] = Σ_{p : index[p] = s} x[…, p]`.
 *
 * Both in float32 (the scatter-add in any summation order). An index value outside [0, S) is an
 * error naming it, as TF.js's gather on cpu fails.
 */
import { tf } from '../engine/tf.js';
import { activeBackendHas } from '../engine/active-kernel.js';

export const GATHER_LAST_KERNEL = 'PosencGatherLast';
export const SCATTER_ADD_LAST_KERNEL = 'PosencScatterAddLast';

export interface ScatterAddLastAttrs {
  size: number;
}

function checkIndex(op: string, index: tf.Tensor): void {
  if (index.rank !== 1 || index.dtype !== 'int32')
    throw new Error(
      `${op}: index must be an int32 vector; got ${index.dtype} of shape [${index.shape}]`,
    );
}

/** `y[…, p] = x[…, index[p]]`: x `[…, S]`, index int32 `[P]` → `[…, P]`. */
export function gatherLast<T extends tf.Tensor>(x: T, index: tf.Tensor1D): T {
  checkIndex('gatherLast', index);
  if (x.rank === 0) throw new Error('gatherLast: x must have at least one axis; got a scalar');
  if (x.dtype === 'float32' && activeBackendHas(GATHER_LAST_KERNEL))
    return tf.engine().runKernel(GATHER_LAST_KERNEL, { x, index }) as T;
  return tf.gather(x, index, x.rank - 1) as T;
}

/** `y[…, s] = Σ_{p : index[p] = s} x[…, p]`: x `[…, P]`, index int32 `[P]` → `[…, size]`. */
export function scatterAddLast<T extends tf.Tensor>(x: T, index: tf.Tensor1D, size: number): T {
  checkIndex('scatterAddLast', index);
  const p = x.shape[x.rank - 1];
  if (p !== index.shape[0])
    throw new Error(
      `scatterAddLast: x's last axis (${p}) and the index (${index.shape[0]}) must have the same length`,
    );
  if (!Number.isInteger(size) || size < 0)
    throw new Error(`scatterAddLast: size = ${size} is not allowed; expected an integer ≥ 0`);
  if (x.dtype === 'float32' && activeBackendHas(SCATTER_ADD_LAST_KERNEL)) {
    const attrs: ScatterAddLastAttrs = { size };
    return tf
      .engine()
      .runKernel(SCATTER_ADD_LAST_KERNEL, { x, index }, attrs as unknown as tf.NamedAttrMap) as T;
  }
  return tf.tidy(() => {
    const leading = x.shape.slice(0, -1);
    const rows = x.reshape([-1, p!]).transpose();
    return tf
      .unsortedSegmentSum(rows, index, size)
      .transpose()
      .reshape([...leading, size]);
  }) as T;
}

// Only reached when an engine has the kernels (otherwise both are composed of TF.js ops, whose
// gradients TF.js knows). The index is a constant: it has no gradient of its own.
if (!tf.getGradient(GATHER_LAST_KERNEL))
  tf.registerGradient({
    kernelName: GATHER_LAST_KERNEL,
    inputsToSave: ['x', 'index'],
    gradFunc: (dy, saved) => {
      const [x, index] = saved as [tf.Tensor, tf.Tensor1D];
      return {
        x: () => scatterAddLast(dy as tf.Tensor, index, x.shape[x.rank - 1]!),
        index: () => tf.zeros(index.shape),
      };
    },
  });

if (!tf.getGradient(SCATTER_ADD_LAST_KERNEL))
  tf.registerGradient({
    kernelName: SCATTER_ADD_LAST_KERNEL,
    inputsToSave: ['index'],
    gradFunc: (dy, saved) => {
      const [index] = saved as [tf.Tensor1D];
      return {
        x: () => gatherLast(dy as tf.Tensor, index),
        index: () => tf.zeros(index.shape),
      };
    },
  });
