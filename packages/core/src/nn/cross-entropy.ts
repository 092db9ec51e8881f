/**
 * Softmax cross-entropy of logits against integer targets, per position:
 *
 *   nll = −log softmax(logits)[target]
 *
 * Composed of TF.js ops it is a log-softmax, a one-hot of the targets, a product and a sum over
 * the vocabulary forward, and about as many ops backward, each a pass over `[…, V]`. An engine
 * may register two kernels to do each direction in one call:
 *
 * - `PosencCrossEntropy`: inputs `logits` (float32 `[…, V]`) and `targets` (int32 `[…]`, each
 *   in [0, V)); output `nll` (float32 `[…]`).
 * - `PosencCrossEntropyGrad`: inputs `dy` (float32 `[…]`), `logits`, `targets`; output
 *   `dLogits` = dy·(softmax(logits) − onehot(targets)).
 *
 * Both compute those formulas in float32 (any summation order).
 */
import { tf } from '../engine/tf.js';
import { activeBackendHas } from '../engine/active-kernel.js';

export const CROSS_ENTROPY_KERNEL = 'PosencCrossEntropy';
export const CROSS_ENTROPY_GRAD_KERNEL = 'PosencCrossEntropyGrad';

export function softmaxCrossEntropy(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  const ids = targets.dtype === 'int32' ? targets : tf.cast(targets, 'int32');
  try {
    if (logits.dtype === 'float32' && activeBackendHas(CROSS_ENTROPY_KERNEL))
      return tf.engine().runKernel(CROSS_ENTROPY_KERNEL, { logits, targets: ids }) as tf.Tensor;
    return tf.tidy(() => {
      const logProbs = tf.logSoftmax(logits);
      const vocabulary = logits.shape[logits.rank - 1]!;
      return tf.neg(tf.sum(tf.mul(logProbs, tf.oneHot(ids, vocabulary)), -1));
    });
  } finally {
    if (ids !== targets) ids.dispose();
  }
}

/** dy·(softmax(logits) − onehot(targets)), through the engine's kernel if it has one. */
export function crossEntropyGradient(
  dy: tf.Tensor,
  logits: tf.Tensor,
  targets: tf.Tensor,
): tf.Tensor {
  if (dy.dtype === 'float32' && activeBackendHas(CROSS_ENTROPY_GRAD_KERNEL))
    return tf.engine().runKernel(CROSS_ENTROPY_GRAD_KERNEL, { dy, logits, targets }) as tf.Tensor;
  return tf.tidy(() => {
    const vocabulary = logits.shape[logits.rank - 1]!;
    const residual = tf.sub(tf.softmax(logits), tf.oneHot(targets, vocabulary));
    return tf.mul(tf.expandDims(dy, -1), residual);
  });
}

// Only reached when an engine has the forward kernel. Targets are indices: no gradient.
if (!tf.getGradient(CROSS_ENTROPY_KERNEL))
  tf.registerGradient({
    kernelName: CROSS_ENTROPY_KERNEL,
    inputsToSave: ['logits', 'targets'],
    gradFunc: (dy, saved) => {
      const [logits, targets] = saved as [tf.Tensor, tf.Tensor];
      return { logits: () => crossEntropyGradient(dy as tf.Tensor, logits, targets) };
    },
  });
