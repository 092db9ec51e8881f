/**
 * Layer normalisation over the last axis (Ba et al. 2016), with the biased variance as PyTorch:
 *
 *   y = (x − μ)·σ⁻¹·γ + β,   μ = mean(x),   σ⁻¹ = 1/√(mean((x − μ)²) + eps)
 *
 * Composed of TF.js ops it is about ten ops forward and twenty backward, each a pass over the
 * activations; the pre-LN LM runs two per layer and one before the head. An engine may register
 * two kernels to do each direction in one call:
 *
 * - `PosencLayerNorm`: inputs `x` (float32 `[…, C]`), `gamma` and `beta` (`[C]`), attribute
 *   `eps`; outputs `y` (x's shape), `mean` and `invStd` (`[…, 1]`, μ and σ⁻¹ above).
 * - `PosencLayerNormGrad`: inputs `dy`, `x`, `gamma`, `mean`, `invStd`; outputs `dx`, `dgamma`,
 *   `dbeta` of {@link layerNormGradient}'s formulas.
 *
 * Both must compute those formulas in float32 (any summation order). `mean` and `invStd` are
 * outputs only so the gradient can reuse them: `layerNorm` returns `y` alone.
 */
import { tf } from '../engine/tf.js';
import { activeBackendHas } from '../engine/active-kernel.js';

export const LAYER_NORM_KERNEL = 'PosencLayerNorm';
export const LAYER_NORM_GRAD_KERNEL = 'PosencLayerNormGrad';

export interface LayerNormAttrs {
  eps: number;
}

export function layerNorm<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
): T {
  if (x.dtype === 'float32' && activeBackendHas(LAYER_NORM_KERNEL)) {
    const attrs: LayerNormAttrs = { eps };
    const [y] = tf
      .engine()
      .runKernel(
        LAYER_NORM_KERNEL,
        { x, gamma, beta },
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor[];
    return y as T;
  }
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta);
  }) as T;
}

export interface LayerNormGradients {
  dx: tf.Tensor;
  dgamma: tf.Tensor1D;
  dbeta: tf.Tensor1D;
}

/**
 * The gradients of `layerNorm` for an upstream gradient `dy`, given the forward's μ and σ⁻¹,
 * through the engine's kernel if it has one:
 *
 *   x̂ = (x − μ)·σ⁻¹,   g = dy·γ,   dx = σ⁻¹·(g − mean(g) − x̂·mean(g·x̂))   (means over C)
 *   dγ = Σ dy·x̂,   dβ = Σ dy   (sums over every axis but the last)
 */
export function layerNormGradient(
  dy: tf.Tensor,
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  mean: tf.Tensor,
  invStd: tf.Tensor,
): LayerNormGradients {
  if (dy.dtype === 'float32' && activeBackendHas(LAYER_NORM_GRAD_KERNEL)) {
    const [dx, dgamma, dbeta] = tf
      .engine()
      .runKernel(LAYER_NORM_GRAD_KERNEL, { dy, x, gamma, mean, invStd }) as tf.Tensor[];
    return { dx: dx!, dgamma: dgamma as tf.Tensor1D, dbeta: dbeta as tf.Tensor1D };
  }
  return tf.tidy(() => {
    const rows = Array.from({ length: x.rank - 1 }, (_, i) => i);
    const xHat = tf.mul(tf.sub(x, mean), invStd);
    const g = tf.mul(dy, gamma);
    const centred = tf.sub(
      tf.sub(g, tf.mean(g, -1, true)),
      tf.mul(xHat, tf.mean(tf.mul(g, xHat), -1, true)),
    );
    return {
      dx: tf.mul(centred, invStd),
      dgamma: tf.sum(tf.mul(dy, xHat), rows) as tf.Tensor1D,
      dbeta: tf.sum(dy, rows) as tf.Tensor1D,
    };
  }) as unknown as LayerNormGradients;
}

// Only reached when an engine has the forward kernel (otherwise layerNorm is composed of TF.js
// ops). The gradients of `mean` and `invStd` are ignored: layerNorm never hands them out.
if (!tf.getGradient(LAYER_NORM_KERNEL))
  tf.registerGradient({
    kernelName: LAYER_NORM_KERNEL,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved) => {
      const [x, gamma, mean, invStd] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor, tf.Tensor];
      const dy = (dys as tf.Tensor[])[0]!;
      const { dx, dgamma, dbeta } = layerNormGradient(dy, x, gamma, mean, invStd);
      return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
    },
  });
