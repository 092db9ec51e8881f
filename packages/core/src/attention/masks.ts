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
  // A copy: the cached values are shared, and a backend may keep the array it is given.
  return tf.tensor2d(causalMaskValues(queries, keys).slice(), [queries, keys]);
}

/** Masks kept per shape; attention at a few lengths (training, evaluation windows) reuses them. */
const CACHED_MASKS = 16;
const causalMasks = new Map<string, Float32Array>();

/**
 * The values of `causalMask(queries, keys)`, row-major, built once per shape (the most recent
 * {@link CACHED_MASKS} shapes are kept). Shared: do not write to it.
 */
export function causalMaskValues(queries: number, keys: number): Float32Array {
  if (!Number.isInteger(queries) || !Number.isInteger(keys) || queries < 0)
    throw new Error(`causal mask: Nq=${queries}, Nk=${keys} must be non-negative integers`);
  if (keys < queries)
    throw new Error(
      `causal attention needs at least as many keys as queries; got Nq=${queries}, Nk=${keys}`,
    );
  const key = `${queries},${keys}`;
  let values = causalMasks.get(key);
  if (values) {
    // Most recently used last, so the oldest is evicted first.
    causalMasks.delete(key);
    causalMasks.set(key, values);
    return values;
  }
  values = new Float32Array(queries * keys);
  const offset = keys - queries;
  for (let i = 0; i < queries; i++) values.fill(MASKED, i * keys + i + offset + 1, (i + 1) * keys);
  causalMasks.set(key, values);
  if (causalMasks.size > CACHED_MASKS) causalMasks.delete(causalMasks.keys().next().value!);
  return values;
}

/** Padding mask from `[B, Nk]` key validity (1 = real token, 0 = padding) to `[B,1,1,Nk]`. */
export function paddingMask(keyValid: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() =>
    tf.mul(tf.sub(1, keyValid.toFloat()), MASKED).expandDims(1).expandDims(1),
  ) as tf.Tensor4D;
}
