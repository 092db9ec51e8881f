/**
 * Multi-head attention that owns its projections and calls the position hooks in the order
 * of the design: projectionInputs → projections → queryKey → scoreBias/valueBias (softmax) or
 * the linear hooks (linear).
 */
import { tf } from '../engine/tf.js';
import {
  assertSupports,
  type AttentionContext,
  type AttentionKind,
  type PositionEncoding,
  type QKV,
} from '../encoding/position-encoding.js';
import type { Positions } from '../positions/positions.js';
import { collectParameters, Linear, type Parameters } from '../nn/layers.js';
import { attendSoftmax } from './softmax-attention.js';
import { linearAttention, type FeatureMap } from './linear-attention.js';

export interface MultiHeadAttentionOptions {
  /** Name prefix of the parameters, e.g. `layers.0.attn`. */
  name: string;
  modelDim: number;
  heads: number;
  layer: number;
  kind?: AttentionKind;
  featureMap?: FeatureMap;
  bias?: boolean;
  seed: number;
}

export interface AttentionCall {
  positions: Positions;
  encodings: readonly PositionEncoding[];
  causal: boolean;
  /** Keys/values input `[B,Nk,C]` when it differs from the queries' (a cache before x, a segment). */
  keyInput?: tf.Tensor3D;
  /** Positions of `keyInput`; required with it. */
  keyPositions?: Positions;
  /** `[B,Nk]` 1 for real keys, 0 for padding. */
  keyValid?: tf.Tensor2D;
  returnProbs?: boolean;
  training?: boolean;
}

export class MultiHeadAttention {
  readonly heads: number;
  readonly headDim: number;
  readonly kind: AttentionKind;
  private readonly wq: Linear;
  private readonly wk: Linear;
  private readonly wv: Linear;
  private readonly wo: Linear;

  constructor(private readonly options: MultiHeadAttentionOptions) {
    const { modelDim, heads, name, seed } = options;
    if (!Number.isInteger(heads) || heads < 1 || modelDim % heads !== 0)
      throw new Error(
        `${name}: heads = ${heads} must be a positive integer dividing modelDim = ${modelDim}`,
      );
    this.heads = heads;
    this.headDim = modelDim / heads;
    this.kind = options.kind ?? 'softmax';
    const bias = options.bias ?? true;
    this.wq = new Linear(`${name}.wq`, modelDim, modelDim, { bias, seed });
    this.wk = new Linear(`${name}.wk`, modelDim, modelDim, { bias, seed });
    this.wv = new Linear(`${name}.wv`, modelDim, modelDim, { bias, seed });
    this.wo = new Linear(`${name}.wo`, modelDim, modelDim, { bias, seed });
  }

  parameters(): Parameters {
    return collectParameters(this.wq, this.wk, this.wv, this.wo);
  }

  /** `[B,N,C]` → `[B,H,N,D]` */
  private splitHeads(x: tf.Tensor): tf.Tensor4D {
    const [b, n] = x.shape as [number, number, number];
    return x.reshape([b, n, this.heads, this.headDim]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
  }

  /**
   * q, k and v heads of one input as one product with the three weights side by side: one
   * GEMM and one transpose (and a split) instead of three of each, and one input gradient
   * instead of three summed. On the kernels engine, attention forward and backward at the
   * harness LM's size ([16,128,128], 4 heads) took 26.7 ms against 28.9 ms with three products
   * (medians of 40 alternating pairs on a loaded machine; the gain is op count, not FLOPs). The
   * weights stay three variables, so parameter names and checkpoints do not change.
   */
  private projectTogether(x: tf.Tensor3D): QKV {
    const [b, n, c] = x.shape;
    const weight = tf.concat([this.wq.weight, this.wk.weight, this.wv.weight], 1) as tf.Tensor2D;
    const flat = x.reshape([b * n, c]) as tf.Tensor2D;
    const projected = this.wq.bias
      ? tf.fused.matMul({
          a: flat,
          b: weight,
          bias: tf.concat([this.wq.bias, this.wk.bias!, this.wv.bias!]),
        })
      : tf.matMul(flat, weight);
    const heads = projected
      .reshape([b, n, 3, this.heads, this.headDim])
      .transpose([2, 0, 3, 1, 4]) as tf.Tensor5D;
    const [q, k, v] = tf
      .split(heads, 3, 0)
      .map((t) => t.reshape([b, this.heads, n, this.headDim]) as tf.Tensor4D);
    return { q: q!, k: k!, v: v! };
  }

  /** Returns the output `[B,Nq,C]` and, for softmax attention on request, probabilities `[B,H,Nq,Nk]`. */
  apply(x: tf.Tensor3D, call: AttentionCall): { output: tf.Tensor3D; probs?: tf.Tensor4D } {
    for (const e of call.encodings) assertSupports(e, this.kind);
    if (call.keyInput && !call.keyPositions)
      throw new Error(`${this.options.name}: keyInput was given without keyPositions`);
    const ctx: AttentionContext = {
      queryPositions: call.positions,
      keyPositions: call.keyPositions ?? call.positions,
      heads: this.heads,
      headDim: this.headDim,
      causal: call.causal,
      layer: this.options.layer,
      kind: this.kind,
      training: call.training ?? false,
    };
    const result = tf.tidy(() => {
      const kvInput = call.keyInput ?? x;
      let xq: tf.Tensor3D = x;
      let xk: tf.Tensor3D = kvInput;
      for (const e of call.encodings)
        if (e.projectionInputs) ({ xq, xk } = e.projectionInputs(xq, xk, ctx));
      // Hooks that change the projections' inputs (or keys from elsewhere) need three products.
      let qkv: QKV =
        xq === xk && xk === kvInput
          ? this.projectTogether(x)
          : {
              q: this.splitHeads(this.wq.apply(xq)),
              k: this.splitHeads(this.wk.apply(xk)),
              v: this.splitHeads(this.wv.apply(kvInput)),
            };
      let heads: tf.Tensor4D;
      let probs: tf.Tensor4D | undefined;
      if (this.kind === 'softmax') {
        const r = attendSoftmax(qkv, {
          encodings: call.encodings,
          ctx,
          keyValid: call.keyValid,
          returnProbs: call.returnProbs,
        });
        heads = r.output;
        probs = r.probs;
      } else {
        if (call.returnProbs)
          throw new Error(
            `${this.options.name}: linear attention forms no attention probabilities; returnProbs needs softmax attention`,
          );
        for (const e of call.encodings) if (e.queryKey) qkv = e.queryKey(qkv, ctx);
        heads = linearAttention(qkv.q, qkv.k, qkv.v, {
          encodings: call.encodings,
          ctx,
          featureMap: this.options.featureMap,
          keyValid: call.keyValid,
        });
      }
      const [b, , n, d] = heads.shape;
      const merged = heads.transpose([0, 2, 1, 3]).reshape([b, n, this.heads * d]);
      const output = this.wo.apply(merged) as tf.Tensor3D;
      return (probs ? { output, probs } : { output }) as unknown as tf.TensorContainerObject;
    });
    return result as unknown as { output: tf.Tensor3D; probs?: tf.Tensor4D };
  }
}
