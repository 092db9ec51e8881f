/**
 * The part of a Transformer between its input embedding and its head, which DecoderLM, Encoder,
 * ViT and RoFormer share: the position encodings (checked against the attention kind and built
 * once from the model's sizes), the stack of TransformerLayers, and one loop that runs the
 * layers in order with this call's dropout seeds. The models differ only in what they do
 * before (token, patch, type embeddings) and after (final norm, heads).
 */
import { tf } from '../engine/tf.js';
import type { PositionEncoding } from '../encoding/position-encoding.js';
import type { GridShape, Positions } from '../positions/positions.js';
import { dropout, type Parameters } from '../nn/layers.js';
import { TransformerLayer, type TransformerLayerOptions } from './transformer-layer.js';
import { buildEncodings, embedPositions, encodingParameters } from './encodings-in-model.js';
import { FavorPlusFeatureMap } from '../attention/favor-plus.js';
import type { FeatureMap } from '../attention/linear-attention.js';

export interface TransformerBodyOptions extends Omit<
  TransformerLayerOptions,
  'layer' | 'featureMap'
> {
  /** The model's name, for error messages. */
  owner: string;
  /**
   * Of linear attention; `'favor+'` makes one FAVOR+ feature map for the body (a projection per
   * layer, seeded by the model's seed), which `featureMap` then returns for redrawing.
   */
  featureMap?: FeatureMap | 'favor+';
  /** Random features of `'favor+'`; default 256. */
  randomFeatures?: number;
  layers: number;
  /** Longest position the encodings are built for (`EncodingBuildSpec.maxPositions`). */
  maxPositions: number;
  /** 2D models: the training grid, for the encodings' build spec. */
  grid?: GridShape;
}

export interface BodyCall {
  positions: Positions;
  /** Positions of the keys (memories' then the tokens'), with `memories`. */
  keyPositions?: Positions;
  /** Per layer, the cached key sources `[B,M,C]` of earlier tokens. */
  memories?: readonly tf.Tensor3D[];
  causal: boolean;
  /** `[B,Nk]` 1 for real keys, 0 for padding. */
  keyValid?: tf.Tensor2D;
  training?: boolean;
  dropoutSeed?: number;
  returnProbs?: boolean;
}

export interface BodyOutput {
  /** `[B,N,C]` the last layer's output. */
  output: tf.Tensor3D;
  /** Per layer, what its keys/values were computed from (a cache for the next subsequence). */
  keySources: tf.Tensor3D[];
  /** Per layer `[B,H,N,Nk]` when `returnProbs`, else empty. */
  probs: tf.Tensor4D[];
}

/**
 * The seed of one dropout site of a call, or undefined (no dropout) outside training or without
 * a call seed. Slot i is layer i (which also uses seed + 1 for its second mask) and slot L the
 * embeddings, so no two masks of a call share a seed; 1009 (a prime) spaces the calls apart.
 */
export function dropoutSeedOf(
  call: { training?: boolean; dropoutSeed?: number },
  slot: number,
): number | undefined {
  return call.training && call.dropoutSeed !== undefined
    ? call.dropoutSeed * 1009 + slot * 7
    : undefined;
}

/**
 * Made in two steps, as every model made its parameters before: the constructor builds the
 * encodings, then the model creates its input embeddings, then `buildLayers()` the stack. The
 * order matters beyond tidiness: TF.js names variables by a counter, so the trainer's gradient
 * record lists parameters in creation order, and the global norm of clipping sums them in that
 * order; another order moves trained results in their last digits.
 */
export class TransformerBody {
  private stack?: TransformerLayer[];
  /** The feature map every layer's linear attention uses (FAVOR+ made here when asked by name). */
  readonly featureMap?: FeatureMap;
  private readonly ownedFeatureMap?: FavorPlusFeatureMap;

  constructor(
    private readonly options: TransformerBodyOptions,
    readonly encodings: readonly PositionEncoding[],
  ) {
    const { modelDim, heads, attention, seed } = options;
    buildEncodings(encodings, attention, {
      layers: options.layers,
      heads,
      headDim: modelDim / heads,
      modelDim,
      maxPositions: options.maxPositions,
      ...(options.grid && { grid: options.grid }),
      seed,
    });
    if (options.featureMap === 'favor+') {
      this.ownedFeatureMap = new FavorPlusFeatureMap({
        features: options.randomFeatures ?? 256,
        seed,
      });
      this.featureMap = this.ownedFeatureMap;
    } else this.featureMap = options.featureMap;
  }

  /** Creates the layers `layers.0` … `layers.{L−1}`; once, after the model's input embeddings. */
  buildLayers(): TransformerLayer[] {
    const o = this.options;
    if (this.stack) throw new Error(`${o.owner}: the layers are already built`);
    // Field by field: a model passes its whole config, which holds more than the layers take.
    const layerOptions: Omit<TransformerLayerOptions, 'layer'> = {
      modelDim: o.modelDim,
      heads: o.heads,
      ffnDim: o.ffnDim,
      norm: o.norm,
      attention: o.attention,
      featureMap: this.featureMap,
      activation: o.activation,
      layerNormEps: o.layerNormEps,
      dropout: o.dropout,
      seed: o.seed,
    };
    this.stack = Array.from(
      { length: o.layers },
      (_, layer) => new TransformerLayer({ ...layerOptions, layer }),
    );
    return this.stack;
  }

  get layers(): TransformerLayer[] {
    if (!this.stack)
      throw new Error(`${this.options.owner}: the layers are not built yet (buildLayers)`);
    return this.stack;
  }

  /** The encodings' parameters; the layers' are each layer's `parameters()`. */
  encodingParameters(): Parameters {
    return encodingParameters(this.encodings);
  }

  /** The encodings' `embed` hooks (absolute methods add to the input here). */
  embed(x: tf.Tensor3D, positions: Positions): tf.Tensor3D {
    return embedPositions(x, this.encodings, positions);
  }

  /** Dropout of the embeddings before the first layer, at the layers' rate. */
  dropoutEmbeddings(x: tf.Tensor3D, call: { training?: boolean; dropoutSeed?: number }) {
    return dropout(
      x,
      this.options.dropout ?? 0,
      dropoutSeedOf(call, this.layers.length),
    ) as tf.Tensor3D;
  }

  /** Runs `h` `[B,N,C]` through the layers in order. */
  run(h: tf.Tensor3D, call: BodyCall): BodyOutput {
    const { owner } = this.options;
    if (call.returnProbs && this.options.attention === 'linear')
      throw new Error(
        `${owner}: returnProbs needs softmax attention; linear attention forms no [N,N] probabilities`,
      );
    if (call.memories && call.memories.length !== this.layers.length)
      throw new Error(
        `${owner}: memories has ${call.memories.length} entries, expected one per layer (${this.layers.length})`,
      );
    const keySources: tf.Tensor3D[] = [];
    const probs: tf.Tensor4D[] = [];
    this.layers.forEach((layer, i) => {
      const r = layer.apply(h, {
        positions: call.positions,
        keyPositions: call.keyPositions,
        memory: call.memories?.[i],
        encodings: this.encodings,
        causal: call.causal,
        keyValid: call.keyValid,
        training: call.training,
        returnProbs: call.returnProbs,
        dropoutSeed: dropoutSeedOf(call, i),
      });
      h = r.output;
      keySources.push(r.keySource);
      if (r.probs) probs.push(r.probs);
    });
    return { output: h, keySources, probs };
  }

  /**
   * Frees what the encodings hold beyond their parameters (which go with the model's), and the
   * random features the body made.
   */
  disposeEncodings(): void {
    for (const e of this.encodings) e.dispose?.();
    this.ownedFeatureMap?.dispose();
  }
}
