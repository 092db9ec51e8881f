import { tf } from '../engine/tf.js';

/**
 * TF.js 4.22 has no `stopGradient`: a copy of the input whose gradient is zero, like PyTorch's
 * `detach()` (what Shortformer's cache does with `self.prev_out = y.detach().clone()`).
 */
const detach = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => ({
  value: (inputs[0] as tf.Tensor).clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

export function stopGradient<T extends tf.Tensor>(x: T): T {
  return detach(x) as T;
}
