/**
 * Scaled dot-product attention with the position hooks, on heads `[B,H,N,D]`.
 */
import { tf } from '../engine/tf.js';
import type { AttentionContext, PositionEncoding, QKV } from '../encoding/position-encoding.js';
import { fusedRotationFor, rotaryAttention } from './fused-rotation.js';
import { scaledDotProductAttention } from './scaled-dot-product.js';

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
 * `queryKey` hook; scoreBias is added after the 1/√D scaling (see PositionEncoding). The
 * encodings' score biases are summed first, then go to `scaledDotProductAttention` as one bias
 * (one kernel call on an engine that has the attention kernels).
 */
export function softmaxAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  options: SoftmaxAttentionOptions,
): AttentionResult {
  const { encodings, ctx } = options;
  return tf.tidy(() => {
    let bias: tf.Tensor | undefined;
    for (const e of encodings)
      if (e.scoreBias) {
        const b = e.scoreBias(q, k, ctx);
        bias = bias ? tf.add(bias, b) : b;
      }
    const valueBiased = encodings.some((e) => e.valueBias);
    const { output: heads, probs } = scaledDotProductAttention(q, k, v, {
      bias,
      causal: ctx.causal,
      keyValid: options.keyValid,
      returnProbs: options.returnProbs || valueBiased,
    });
    let output = heads;
    for (const e of encodings) if (e.valueBias) output = tf.add(output, e.valueBias(probs!, ctx));
    const result: AttentionResult = { output };
    if (options.returnProbs) result.probs = probs;
    return result as unknown as tf.TensorContainerObject;
  }) as unknown as AttentionResult;
}

/**
 * Softmax attention on the projected heads as `MultiHeadAttention` runs it: the encodings'
 * `queryKey` hooks in order, then {@link softmaxAttention}; or, where the engine can and nothing
 * else reads q and k, one rotation fused into the attention kernel (`fused-rotation.ts`).
 */
export function attendSoftmax(qkv: QKV, options: SoftmaxAttentionOptions): AttentionResult {
  const rotation = fusedRotationFor(qkv, options);
  if (rotation)
    return {
      output: rotaryAttention(qkv, rotation, {
        causal: options.ctx.causal,
        keyValid: options.keyValid,
      }),
    };
  let hooked = qkv;
  for (const e of options.encodings) if (e.queryKey) hooked = e.queryKey(hooked, options.ctx);
  return softmaxAttention(hooked.q, hooked.k, hooked.v, options);
}
