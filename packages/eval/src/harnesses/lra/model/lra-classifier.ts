/**
 * The LRA classifier (lra_benchmarks `transformer.py` with `classifier_head`): token embeddings,
 * a [CLS] token first when pooling by it, the position method, a pre-LN Transformer body (core's),
 * a final layer norm, pooling (CLS or the mean over real tokens), then an MLP: Dense(mlp) → ReLU →
 * Dense(classes). Retrieval's two towers share the encoder; their pooled vectors are concatenated
 * and go through Dense(mlp) → ReLU → Dense(mlp/2) → ReLU → Dense(2) (`classifier_head_dual`, with
 * the default interaction: plain concatenation).
 *
 * Initialisation follows LRA, not core's GPT-2 default of 0.02: token embeddings N(0, 1)
 * (`transformer.py`: `embedding_init=nn.initializers.normal(stddev=1.0)`) and the head's dense
 * layers LeCun-normal, std 1/√fan-in (flax `nn.Dense`'s default, which `classifier_head` uses).
 * With 0.02 in both, in a probe on 8×8 Pathfinder images, the pooled vectors of different images
 * differed by 0.1% of their size and every ReLU of the head was dead after 500 steps; ListOps
 * scored 21–24% where LRA's initialisation gives 24–31% (default preset, seed 0).
 */
import {
  collectParameters,
  disposeParameters,
  Embedding,
  LayerNorm,
  Linear,
  sequencePositions,
  disposePositions,
  TransformerBody,
  tf,
  type FeatureMap,
  type Parameters,
  type PositionEncoding,
} from '@posenc/core';

/** LRA's token-embedding std. */
export const LRA_EMBEDDING_STD = 1;

/** flax's LeCun-normal std for a dense layer of `fanIn` inputs. */
export const lecunStd = (fanIn: number): number => 1 / Math.sqrt(fanIn);

export interface LraModelOptions {
  readonly vocabSize: number;
  readonly classes: number;
  readonly maxLength: number;
  readonly modelDim: number;
  readonly heads: number;
  readonly layers: number;
  readonly ffnDim: number;
  readonly mlpDim: number;
  readonly pooling: 'cls' | 'mean';
  readonly dual: boolean;
  readonly attention: 'softmax' | 'linear';
  readonly featureMap: FeatureMap | 'favor+';
  readonly randomFeatures: number;
  readonly dropout: number;
  readonly seed: number;
}

export interface LraInputs {
  /** `[B, N]` int32 ids, 0 = padding. */
  readonly ids: tf.Tensor2D;
  /** Retrieval's second documents. */
  readonly second?: tf.Tensor2D;
}

export class LraClassifier {
  readonly body: TransformerBody;
  private readonly embedding: Embedding;
  private readonly finalNorm: LayerNorm;
  private readonly head: Linear[];

  constructor(
    readonly options: LraModelOptions,
    readonly encodings: readonly PositionEncoding[],
  ) {
    const o = options;
    const cls = o.pooling === 'cls' ? 1 : 0;
    this.body = new TransformerBody(
      {
        owner: 'LraClassifier',
        layers: o.layers,
        modelDim: o.modelDim,
        heads: o.heads,
        ffnDim: o.ffnDim,
        norm: 'pre',
        attention: o.attention,
        featureMap: o.featureMap,
        randomFeatures: o.randomFeatures,
        activation: 'gelu',
        dropout: o.dropout,
        seed: o.seed,
        maxPositions: o.maxLength + cls,
      },
      encodings,
    );
    // One more id for [CLS].
    this.embedding = new Embedding('embed.tokens', o.vocabSize + cls, o.modelDim, {
      seed: o.seed,
      std: LRA_EMBEDDING_STD,
    });
    this.body.buildLayers();
    this.finalNorm = new LayerNorm('final_norm', o.modelDim);
    const widths = o.dual
      ? [2 * o.modelDim, o.mlpDim, o.mlpDim / 2, o.classes]
      : [o.modelDim, o.mlpDim, o.classes];
    this.head = widths
      .slice(1)
      .map(
        (w, i) =>
          new Linear(`head.dense${i}`, widths[i]!, w, { seed: o.seed, std: lecunStd(widths[i]!) }),
      );
  }

  parameters(): Parameters {
    return collectParameters(this.embedding, ...this.body.layers, this.finalNorm, ...this.head, {
      parameters: () => this.body.encodingParameters(),
    });
  }

  /** Pooled encodings `[B, C]` of token ids `[B, N]`. */
  private encode(tokens: tf.Tensor2D, training: boolean, dropoutSeed?: number): tf.Tensor2D {
    const [b, n] = tokens.shape;
    const cls = this.options.pooling === 'cls';
    const length = n + (cls ? 1 : 0);
    const positions = sequencePositions(1, length);
    try {
      return tf.tidy(() => {
        const ids = cls
          ? tf.concat([tf.fill([b, 1], this.options.vocabSize, 'int32'), tokens], 1)
          : tokens;
        const valid = tf.notEqual(ids, 0).toFloat() as tf.Tensor2D; // [CLS] is never 0
        let h = this.embedding.apply(ids) as tf.Tensor3D;
        h = this.body.embed(h, positions);
        h = this.body.dropoutEmbeddings(h, { training, dropoutSeed });
        const out = this.body.run(h, {
          positions,
          causal: false,
          keyValid: valid,
          training,
          dropoutSeed,
        });
        const normed = this.finalNorm.apply(out.output);
        if (cls) return normed.slice([0, 0, 0], [-1, 1, -1]).squeeze([1]);
        const weights = valid.expandDims(2);
        return tf.div(tf.sum(tf.mul(normed, weights), 1), tf.maximum(tf.sum(weights, 1), 1));
      }) as tf.Tensor2D;
    } finally {
      disposePositions(positions);
    }
  }

  /** Class logits `[B, K]`. */
  logits(inputs: LraInputs, training = false, dropoutSeed?: number): tf.Tensor2D {
    return tf.tidy(() => {
      let h: tf.Tensor = this.encode(inputs.ids, training, dropoutSeed);
      if (this.options.dual) {
        if (!inputs.second)
          throw new Error('LraClassifier: the dual (Retrieval) model needs both documents');
        h = tf.concat([h, this.encode(inputs.second, training, dropoutSeed)], 1);
      }
      this.head.forEach((layer, i) => {
        h = layer.apply(h);
        if (i < this.head.length - 1) h = tf.relu(h);
      });
      return h as tf.Tensor2D;
    });
  }

  dispose(): void {
    disposeParameters(this.parameters());
    this.body.disposeEncodings();
  }
}
