/**
 * Scaled dot-product attention with the position hooks, on heads `[B,H,N,D]`.
 */
import { tf } from '../engine/tf.js';
import type { AttentionContext, PositionEncoding } from '../encoding/position-encoding.js';
import { causalMask, paddingMask } from './masks.js';

export interface SoftmaxAttentionOptions {
  encodings: readonly PositionEncoding[];
  ctx: AttentionContext;
  /** `[B, Nk]`, 1 for real keys and 0 for padding. */
  keyValid?: tf.Tensor2D;
  returnProbs?: boolean;
}

export interface AttentionResult {
  /** `[B,H,Nq,Dv]` */
  output: tf.Tensor4D;
  /** `[B,H,Nq,Nk]`, only when asked for (linear attention has none). */
  probs?: tf.Tensor4D;
}

/**
 * softmax(q·kᵀ/√D + Σ scoreBias + masks)·v + Σ valueBias. q, k, v are the heads after the
 * `queryKey` hook; scoreBias is added after the 1/√D scaling (see PositionEncoding).
 */
export function softmaxAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  options: SoftmaxAttentionOptions,
): AttentionResult {
  const { encodings, ctx } = options;
  return tf.tidy(() => {
    const nq = q.shape[2];
    const nk = k.shape[2];
    let scores: tf.Tensor = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(q.shape[3]));
    for (const e of encodings) if (e.scoreBias) scores = tf.add(scores, e.scoreBias(q, k, ctx));
    if (ctx.causal) scores = tf.add(scores, causalMask(nq, nk));
    if (options.keyValid) scores = tf.add(scores, paddingMask(options.keyValid));
    const probs = tf.softmax(scores) as tf.Tensor4D;
    let output = tf.matMul(probs, v) as tf.Tensor4D;
    for (const e of encodings) if (e.valueBias) output = tf.add(output, e.valueBias(probs, ctx));
    const result: AttentionResult = { output };
    if (options.returnProbs) result.probs = probs;
    return result as unknown as tf.TensorContainerObject;
  }) as unknown as AttentionResult;
}
