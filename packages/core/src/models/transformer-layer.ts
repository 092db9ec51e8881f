/**
 * One Transformer layer: attention and a feed-forward block, each with a residual connection,
 * with the layer norm before each block (pre-LN, GPT-2 style) or after it (post-LN, the
 * original Transformer and BERT).
 */
import { tf } from '../engine/tf.js';
import { MultiHeadAttention, type AttentionCall } from '../attention/multi-head-attention.js';
import type { FeatureMap } from '../attention/linear-attention.js';
import type { AttentionKind } from '../encoding/position-encoding.js';
import {
  activate,
  collectParameters,
  dropout,
  LayerNorm,
  Linear,
  type Activation,
  type Parameters,
} from '../nn/layers.js';

export type NormPlacement = 'pre' | 'post';

export interface TransformerLayerOptions {
  layer: number;
  modelDim: number;
  heads: number;
  ffnDim: number;
  norm: NormPlacement;
  attention: AttentionKind;
  featureMap?: FeatureMap;
  /** Of the feed-forward block; default 'gelu' (the tanh approximation). */
  activation?: Activation;
  /** Of both layer norms; default 1e-5 (PyTorch's). BERT-family checkpoints use 1e-12. */
  layerNormEps?: number;
  dropout?: number;
  seed: number;
}

export interface LayerCall extends Omit<AttentionCall, 'keyInput'> {
  /**
   * What this layer's keys and values were computed from for earlier tokens (a cache),
   * `[B,M,C]`; their positions must lead `keyPositions`.
   */
  memory?: tf.Tensor3D;
  /** Seed for this call's dropout masks; no dropout without it. */
  dropoutSeed?: number;
}

export interface LayerResult {
  output: tf.Tensor3D;
  /** The tensor keys/values are computed from for the current tokens (what a cache keeps). */
  keySource: tf.Tensor3D;
  probs?: tf.Tensor4D;
}

export class TransformerLayer {
  readonly attention: MultiHeadAttention;
  private readonly norm1: LayerNorm;
  private readonly norm2: LayerNorm;
  private readonly ffnIn: Linear;
  private readonly ffnOut: Linear;

  constructor(private readonly options: TransformerLayerOptions) {
    const { layer, modelDim, heads, ffnDim, seed } = options;
    const name = `layers.${layer}`;
    this.attention = new MultiHeadAttention({
      name: `${name}.attn`,
      modelDim,
      heads,
      layer,
      kind: options.attention,
      featureMap: options.featureMap,
      seed,
    });
    this.norm1 = new LayerNorm(`${name}.norm1`, modelDim, options.layerNormEps);
    this.norm2 = new LayerNorm(`${name}.norm2`, modelDim, options.layerNormEps);
    this.ffnIn = new Linear(`${name}.ffn.in`, modelDim, ffnDim, { seed });
    this.ffnOut = new Linear(`${name}.ffn.out`, ffnDim, modelDim, { seed });
  }

  parameters(): Parameters {
    return collectParameters(this.attention, this.norm1, this.norm2, this.ffnIn, this.ffnOut);
  }

  private feedForward(x: tf.Tensor, seed: number | undefined): tf.Tensor {
    const rate = this.options.dropout ?? 0;
    const h = activate(this.ffnIn.apply(x), this.options.activation ?? 'gelu');
    return dropout(this.ffnOut.apply(h), rate, seed === undefined ? undefined : seed + 1);
  }

  apply(x: tf.Tensor3D, call: LayerCall): LayerResult {
    const rate = this.options.dropout ?? 0;
    const seed = call.training ? call.dropoutSeed : undefined;
    return tf.tidy(() => {
      const pre = this.options.norm === 'pre';
      const keySource = pre ? this.norm1.apply(x) : x;
      const keyInput = call.memory
        ? (tf.concat([call.memory, keySource], 1) as tf.Tensor3D)
        : undefined;
      const attn = this.attention.apply(keySource, { ...call, keyInput });
      const attnOut = dropout(attn.output, rate, seed);
      let h: tf.Tensor;
      if (pre) {
        h = tf.add(x, attnOut);
        h = tf.add(h, this.feedForward(this.norm2.apply(h), seed));
      } else {
        h = this.norm1.apply(tf.add(x, attnOut));
        h = this.norm2.apply(tf.add(h, this.feedForward(h, seed)));
      }
      const out: Record<string, tf.Tensor> = { output: h, keySource };
      if (attn.probs) out['probs'] = attn.probs;
      return out;
    }) as unknown as LayerResult;
  }
}
