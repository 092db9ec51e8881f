/**
 * Additive masks for attention logits. Masked entries get a large negative number rather than
 * −∞, so a row with every key masked (pure padding) yields a uniform row instead of NaN.
 */
import { tf } from '../engine/tf.js';

export const MASKED = -1e9;

/**
 * Causal mask `[Nq, Nk]`. Keys beyond the queries' count come first (a cache or a prefix), so
 * query i is aligned with key i + (Nk − Nq): it sees that key, every earlier one, and the
 * whole prefix.
 */
export function causalMask(queries: number, keys: number): tf.Tensor2D {
  if (keys < queries)
    throw new Error(
      `causal attention needs at least as many keys as queries; got Nq=${queries}, Nk=${keys}`,
    );
  return tf.tidy(() => {
    const offset = keys - queries;
    const q = tf.range(0, queries, 1, 'int32').expandDims(1);
    const k = tf.range(0, keys, 1, 'int32').expandDims(0);
    const visible = tf.lessEqual(k, tf.add(q, offset));
    return tf.where(visible, tf.zeros([queries, keys]), tf.fill([queries, keys], MASKED));
  }) as tf.Tensor2D;
}

/** Padding mask from `[B, Nk]` key validity (1 = real token, 0 = padding) to `[B,1,1,Nk]`. */
export function paddingMask(keyValid: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() =>
    tf.mul(tf.sub(1, keyValid.toFloat()), MASKED).expandDims(1).expandDims(1),
  ) as tf.Tensor4D;
}
