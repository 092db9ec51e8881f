/**
 * One RoFormer layer, as HF `RoFormerLayer` (BERT's post-LN block): attention → dense →
 * dropout → LayerNorm(h + x), then intermediate dense + activation → dense → dropout →
 * LayerNorm(h + attention output). Built from core's attention (which calls the `rope`
 * encoding's hooks), Linear and LayerNorm; core's `TransformerLayer` is not used because
 * RoFormer needs the exact erf GELU and LayerNorm eps 1e-12 to reproduce HF checkpoints.
 */
import {
  collectParameters,
  dropout,
  gelu,
  LayerNorm,
  Linear,
  MultiHeadAttention,
  tf,
  type AttentionKind,
  type FeatureMapName,
  type Parameters,
  type PositionEncoding,
  type Positions,
} from '@posenc/core';

export type RoFormerActivation = 'gelu' | 'gelu_new' | 'relu';

/** HF ACT2FN: 'gelu' is the exact x·Φ(x) = x·(1 + erf(x/√2))/2; 'gelu_new' the tanh approximation. */
export function activation(x: tf.Tensor, kind: RoFormerActivation): tf.Tensor {
  switch (kind) {
    case 'gelu':
      return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));
    case 'gelu_new':
      return gelu(x);
    case 'relu':
      return tf.relu(x);
  }
}

export interface RoFormerLayerOptions {
  layer: number;
  hiddenSize: number;
  heads: number;
  intermediateSize: number;
  activation: RoFormerActivation;
  layerNormEps: number;
  dropout: number;
  attention: AttentionKind;
  featureMap: FeatureMapName;
  seed: number;
}

export interface RoFormerLayerCall {
  positions: Positions;
  encodings: readonly PositionEncoding[];
  causal: boolean;
  keyValid?: tf.Tensor2D;
  returnProbs?: boolean;
  training?: boolean;
  /** Seed of this layer's dropout masks; no dropout without it. */
  dropoutSeed?: number;
}

export class RoFormerLayer {
  readonly attention: MultiHeadAttention;
  readonly attentionNorm: LayerNorm;
  readonly intermediate: Linear;
  readonly output: Linear;
  readonly outputNorm: LayerNorm;

  constructor(private readonly options: RoFormerLayerOptions) {
    const { layer, hiddenSize, heads, intermediateSize, layerNormEps, seed } = options;
    const name = `layers.${layer}`;
    this.attention = new MultiHeadAttention({
      name: `${name}.attn`,
      modelDim: hiddenSize,
      heads,
      layer,
      kind: options.attention,
      featureMap: options.featureMap,
      seed,
    });
    this.attentionNorm = new LayerNorm(`${name}.norm1`, hiddenSize, layerNormEps);
    this.intermediate = new Linear(`${name}.ffn.in`, hiddenSize, intermediateSize, { seed });
    this.output = new Linear(`${name}.ffn.out`, intermediateSize, hiddenSize, { seed });
    this.outputNorm = new LayerNorm(`${name}.norm2`, hiddenSize, layerNormEps);
  }

  parameters(): Parameters {
    return collectParameters(
      this.attention,
      this.attentionNorm,
      this.intermediate,
      this.output,
      this.outputNorm,
    );
  }

  apply(x: tf.Tensor3D, call: RoFormerLayerCall): { output: tf.Tensor3D; probs?: tf.Tensor4D } {
    const seed = call.training ? call.dropoutSeed : undefined;
    const rate = this.options.dropout;
    return tf.tidy(() => {
      const attended = this.attention.apply(x, {
        positions: call.positions,
        encodings: call.encodings,
        causal: call.causal,
        keyValid: call.keyValid,
        returnProbs: call.returnProbs,
        training: call.training,
      });
      const h = this.attentionNorm.apply(tf.add(x, dropout(attended.output, rate, seed)));
      const inner = activation(this.intermediate.apply(h), this.options.activation);
      const out = this.outputNorm.apply(
        tf.add(
          h,
          dropout(this.output.apply(inner), rate, seed === undefined ? undefined : seed + 1),
        ),
      ) as tf.Tensor3D;
      return (attended.probs
        ? { output: out, probs: attended.probs }
        : { output: out }) as unknown as tf.TensorContainerObject;
    }) as unknown as { output: tf.Tensor3D; probs?: tf.Tensor4D };
  }
}
