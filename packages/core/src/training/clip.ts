/**
 * Gradient clipping by global norm, as `torch.nn.utils.clip_grad_norm_` does it: one norm over
 * all gradients together, so clipping keeps the direction of the whole update.
 */
import { tf } from '../engine/tf.js';

export type Gradients = Record<string, tf.Tensor>;

/** Added to the norm before dividing, as in torch, so a zero gradient never divides by zero. */
const NORM_EPSILON = 1e-6;

/** `sqrt(Σ_i ‖g_i‖²)` over all gradients, as a scalar tensor the caller disposes. */
export function globalNorm(gradients: Readonly<Gradients>): tf.Scalar {
  const tensors = Object.values(gradients);
  return tf.tidy(() => {
    if (tensors.length === 0) return tf.scalar(0);
    return tf.sqrt(tf.addN(tensors.map((g) => tf.sum<tf.Scalar>(tf.square(g)))));
  });
}

/**
 * Scales all gradients by `min(1, maxNorm / (norm + 1e-6))` and returns the norm before clipping.
 *
 * Takes ownership of `gradients`: when they are within `maxNorm` (or the norm is not finite, which
 * the caller has to handle anyway) the same record comes back untouched; otherwise the originals
 * are disposed and a record of scaled tensors is returned.
 */
export function clipByGlobalNorm(
  gradients: Gradients,
  maxNorm: number,
): { gradients: Gradients; norm: number } {
  if (!(maxNorm > 0)) throw new RangeError(`clipByGlobalNorm: maxNorm must be > 0, got ${maxNorm}`);
  const normTensor = globalNorm(gradients);
  const norm = normTensor.dataSync()[0]!;
  normTensor.dispose();
  const coefficient = maxNorm / (norm + NORM_EPSILON);
  if (!Number.isFinite(norm) || coefficient >= 1) return { gradients, norm };
  const scaled = tf.tidy(() => {
    const out: Gradients = {};
    for (const [name, g] of Object.entries(gradients)) out[name] = tf.mul(g, coefficient);
    return out;
  });
  tf.dispose(Object.values(gradients));
  return { gradients: scaled, norm };
}
