/**
 * GELU, tanh approximation (as GPT-2 and BERT's TF code): TF.js 4.22 has no GELU op.
 *
 *   gelu(x) = 0.5·x·(1 + tanh(u)),   u = √(2/π)·x·(1 + 0.044715·x²)
 *   gelu'(x) = 0.5·(1 + tanh(u)) + 0.5·x·(1 − tanh²(u))·√(2/π)·(1 + 3·0.044715·x²)
 *
 * Composed of TF.js ops it is nine elementwise ops forward and about twice that backward, each a
 * pass over the FFN's widest activations. An engine may register the kernels `PosencGelu`
 * (input `x`, output gelu(x)) and `PosencGeluGrad` (inputs `dy`, `x`, output dy·gelu'(x)) to do
 * each in one pass; they must compute the formulas above in float32. x + 0.044715·x³ is written
 * x·(1 + 0.044715·x²): `tf.pow` is a slow generic kernel on wasm (77 ms against 3 ms for the
 * products on [8,256,2048]).
 */
import { tf } from '../engine/tf.js';
import { activeBackendHas } from '../engine/active-kernel.js';

export const GELU_KERNEL = 'PosencGelu';
export const GELU_GRAD_KERNEL = 'PosencGeluGrad';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const CUBIC = 0.044715;

export function gelu(x: tf.Tensor): tf.Tensor {
  if (x.dtype === 'float32' && activeBackendHas(GELU_KERNEL))
    return tf.engine().runKernel(GELU_KERNEL, { x }) as tf.Tensor;
  return tf.tidy(() => {
    const cubic = tf.mul(x, tf.add(1, tf.mul(CUBIC, tf.square(x))));
    const inner = tf.mul(SQRT_2_OVER_PI, cubic);
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
  });
}

/** dy·gelu'(x), through the engine's kernel if it has one. */
export function geluGradient(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  if (dy.dtype === 'float32' && activeBackendHas(GELU_GRAD_KERNEL))
    return tf.engine().runKernel(GELU_GRAD_KERNEL, { dy, x }) as tf.Tensor;
  return tf.tidy(() => {
    const square = tf.square(x);
    const t = tf.tanh(tf.mul(SQRT_2_OVER_PI, tf.mul(x, tf.add(1, tf.mul(CUBIC, square)))));
    const outer = tf.mul(0.5, tf.add(1, t));
    const slope = tf.mul(SQRT_2_OVER_PI, tf.add(1, tf.mul(3 * CUBIC, square)));
    const inner = tf.mul(tf.mul(tf.mul(0.5, x), tf.sub(1, tf.square(t))), slope);
    return tf.mul(dy, tf.add(outer, inner));
  });
}

// Only reached when an engine has the forward kernel (otherwise gelu is composed of TF.js ops).
if (!tf.getGradient(GELU_KERNEL))
  tf.registerGradient({
    kernelName: GELU_KERNEL,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as [tf.Tensor];
      return { x: () => geluGradient(dy as tf.Tensor, x) };
    },
  });
