/**
 * A bidirectional Transformer encoder (BERT, Devlin et al. 2019) whose position method is a
 * list of encodings, with the two task heads of BERT's fine-tuning recipes: sequence
 * classification and extractive spans (SQuAD).
 */
import { tf } from '../engine/tf.js';
import type { PositionEncoding } from '../encoding/position-encoding.js';
import type { Positions } from '../positions/positions.js';
import { MASKED } from '../attention/masks.js';
import { parseConfig } from '../config/schema.js';
import {
  collectParameters,
  disposeParameters,
  dropout,
  Embedding,
  LayerNorm,
  Linear,
  type Parameters,
} from '../nn/layers.js';
import type { TransformerLayer, NormPlacement } from './transformer-layer.js';
import { TransformerBody } from './transformer-body.js';
import { assertLikeTokens, withPositions } from './call-inputs.js';
import {
  parseTransformerConfig,
  TRANSFORMER_FIELDS,
  type TransformerConfig,
} from './transformer-config.js';
import { tokenNll } from './decoder-lm.js';

const ENCODER_SCHEMA = {
  ...TRANSFORMER_FIELDS,
  vocabSize: { type: 'number', integer: true, min: 1 },
  maxPositions: { type: 'number', integer: true, min: 1, default: 512 },
  typeVocabSize: {
    type: 'number',
    integer: true,
    min: 0,
    default: 0,
    doc: 'token-type (segment) embeddings; 0 = none, BERT uses 2',
  },
  norm: { type: 'enum', values: ['pre', 'post'], default: 'post' },
} as const;

export interface EncoderConfig extends TransformerConfig {
  vocabSize: number;
  maxPositions?: number;
  typeVocabSize?: number;
  norm?: NormPlacement;
}

export interface EncoderCall {
  /** `[B,N]` 1 for real tokens, 0 for padding; padding keys are invisible to every query. */
  attentionMask?: tf.Tensor2D;
  /** `[B,N]` token-type (segment) ids; all 0 when absent, as BERT. */
  tokenTypes?: tf.Tensor2D;
  /** Position ids of the tokens; default 0…N−1. */
  positions?: Positions;
  training?: boolean;
  dropoutSeed?: number;
  /** Attention probabilities per layer (softmax attention only). */
  returnProbs?: boolean;
}

export interface EncoderForward {
  /** `[B,N,C]` the last layer's output (after the final norm in a pre-LN encoder). */
  hidden: tf.Tensor3D;
  /** Per layer `[B,H,N,N]`, on request. */
  probs?: tf.Tensor4D[];
}

export class Encoder {
  readonly config: Required<EncoderConfig>;
  readonly layers: TransformerLayer[];
  private readonly body: TransformerBody;
  private readonly tokenEmbedding: Embedding;
  private readonly typeEmbedding?: Embedding;
  /** Post-LN: BERT normalises the summed embeddings before the first layer. */
  private readonly embeddingNorm?: LayerNorm;
  /** Pre-LN: the residual stream is never normalised inside the layers, so once at the end. */
  private readonly finalNorm?: LayerNorm;

  constructor(
    config: EncoderConfig,
    readonly encodings: readonly PositionEncoding[],
  ) {
    this.config = parseTransformerConfig(
      'Encoder',
      ENCODER_SCHEMA,
      config,
    ) as Required<EncoderConfig>;
    const { vocabSize, typeVocabSize, modelDim, norm, seed } = this.config;
    this.body = new TransformerBody({ owner: 'Encoder', ...this.config }, encodings);
    this.tokenEmbedding = new Embedding('embed.tokens', vocabSize, modelDim, { seed });
    if (typeVocabSize > 0)
      this.typeEmbedding = new Embedding('embed.types', typeVocabSize, modelDim, { seed });
    this.layers = this.body.buildLayers();
    if (norm === 'post') this.embeddingNorm = new LayerNorm('embed.norm', modelDim);
    else this.finalNorm = new LayerNorm('final_norm', modelDim);
  }

  parameters(): Parameters {
    const modules: { parameters(): Parameters }[] = [this.tokenEmbedding];
    if (this.typeEmbedding) modules.push(this.typeEmbedding);
    if (this.embeddingNorm) modules.push(this.embeddingNorm);
    modules.push(...this.layers);
    if (this.finalNorm) modules.push(this.finalNorm);
    modules.push({ parameters: () => this.body.encodingParameters() });
    return collectParameters(...modules);
  }

  /** Contextual token representations for tokens `[B,N]` (int32). */
  forward(tokens: tf.Tensor2D, call: EncoderCall = {}): EncoderForward {
    const [b, n] = tokens.shape;
    const input = { owner: 'Encoder', batch: b, length: n };
    assertLikeTokens(input, 'attentionMask', call.attentionMask);
    assertLikeTokens(input, 'tokenTypes', call.tokenTypes);
    if (call.tokenTypes && !this.typeEmbedding)
      throw new Error(
        'Encoder: tokenTypes were given but the config has typeVocabSize = 0 (no token-type embeddings)',
      );
    return withPositions(
      call.positions,
      input,
      (positions) =>
        tf.tidy(() => {
          let h = this.tokenEmbedding.apply(tokens) as tf.Tensor3D;
          if (this.typeEmbedding)
            h = tf.add(h, this.typeEmbedding.apply(call.tokenTypes ?? tf.zerosLike(tokens)));
          h = this.body.embed(h, positions);
          if (this.embeddingNorm) h = this.embeddingNorm.apply(h);
          const body = this.body.run(this.body.dropoutEmbeddings(h, call), {
            positions,
            causal: false,
            keyValid: call.attentionMask,
            training: call.training,
            dropoutSeed: call.dropoutSeed,
            returnProbs: call.returnProbs,
          });
          const hidden = this.finalNorm ? this.finalNorm.apply(body.output) : body.output;
          const out: Record<string, tf.Tensor | tf.Tensor[]> = { hidden };
          if (call.returnProbs) out['probs'] = body.probs;
          return out as unknown as tf.TensorContainerObject;
        }) as unknown as EncoderForward,
    );
  }

  dispose(): void {
    disposeParameters(this.parameters());
    this.body.disposeEncodings();
  }
}

/** Mean cross-entropy in nats of logits `[B,K]` against class ids `[B]`. */
export function classCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(
    () =>
      tf.mean(
        tokenNll(logits.expandDims(1) as tf.Tensor3D, labels.expandDims(1) as tf.Tensor2D),
      ) as tf.Scalar,
  );
}

const CLASSIFICATION_HEAD_SCHEMA = {
  modelDim: { type: 'number', integer: true, min: 1 },
  classes: { type: 'number', integer: true, min: 2 },
  pooling: {
    type: 'enum',
    values: ['first', 'mean'],
    default: 'first',
    doc: "'first' = the first token ([CLS]) as BERT; 'mean' = mean over real tokens",
  },
  dropout: { type: 'number', min: 0, max: 0.99, default: 0 },
  seed: { type: 'number', integer: true, min: 0, default: 0 },
} as const;

export interface ClassificationHeadConfig {
  modelDim: number;
  classes: number;
  pooling?: 'first' | 'mean';
  dropout?: number;
  seed?: number;
}

export interface HeadCall {
  /** `[B,N]` 1 for real tokens, 0 for padding. */
  attentionMask?: tf.Tensor2D;
  training?: boolean;
  dropoutSeed?: number;
}

/**
 * BERT's sequence classifier: pool the sequence, then the pooler (dense + tanh), dropout and a
 * linear classifier (`BertPooler` and `BertForSequenceClassification` in HF transformers; the
 * parameter names follow them).
 */
export class ClassificationHead {
  readonly config: Required<ClassificationHeadConfig>;
  private readonly pooler: Linear;
  private readonly classifier: Linear;

  constructor(config: ClassificationHeadConfig) {
    this.config = parseConfig(
      'ClassificationHead',
      CLASSIFICATION_HEAD_SCHEMA,
      config as unknown as Record<string, unknown>,
    ) as Required<ClassificationHeadConfig>;
    const { modelDim, classes, seed } = this.config;
    this.pooler = new Linear('pooler.dense', modelDim, modelDim, { seed });
    this.classifier = new Linear('classifier', modelDim, classes, { seed });
  }

  parameters(): Parameters {
    return collectParameters(this.pooler, this.classifier);
  }

  /** Class logits `[B,K]` from the encoder's hidden states `[B,N,C]`. */
  apply(hidden: tf.Tensor3D, call: HeadCall = {}): tf.Tensor2D {
    return tf.tidy(() => {
      let pooled: tf.Tensor;
      if (this.config.pooling === 'first')
        pooled = hidden.slice([0, 0, 0], [-1, 1, -1]).squeeze([1]);
      else {
        const [b, n] = hidden.shape;
        const valid = (call.attentionMask ?? tf.ones([b, n])).toFloat().expandDims(2);
        pooled = tf.div(tf.sum(tf.mul(hidden, valid), 1), tf.maximum(tf.sum(valid, 1), 1));
      }
      const features = tf.tanh(this.pooler.apply(pooled));
      const seed = call.training ? call.dropoutSeed : undefined;
      return this.classifier.apply(dropout(features, this.config.dropout, seed)) as tf.Tensor2D;
    });
  }

  /** Mean cross-entropy of the class logits against `labels` `[B]` (class ids). */
  loss(hidden: tf.Tensor3D, labels: tf.Tensor1D, call: HeadCall = {}): tf.Scalar {
    return tf.tidy(() => classCrossEntropy(this.apply(hidden, call), labels));
  }

  dispose(): void {
    disposeParameters(this.parameters());
  }
}

const SPAN_HEAD_SCHEMA = {
  modelDim: { type: 'number', integer: true, min: 1 },
  seed: { type: 'number', integer: true, min: 0, default: 0 },
} as const;

export interface SpanHeadConfig {
  modelDim: number;
  seed?: number;
}

export interface SpanLogits {
  /** `[B,N]` answer-start logits; padding positions hold a large negative value. */
  start: tf.Tensor2D;
  /** `[B,N]` answer-end logits; padding positions hold a large negative value. */
  end: tf.Tensor2D;
}

/**
 * BERT's extractive question answering head: one linear map to a start and an end logit per
 * token (`qa_outputs` in HF's `BertForQuestionAnswering`); the loss is the mean of the start
 * and end cross-entropies over the tokens.
 */
export class SpanHead {
  readonly config: Required<SpanHeadConfig>;
  private readonly outputs: Linear;

  constructor(config: SpanHeadConfig) {
    this.config = parseConfig(
      'SpanHead',
      SPAN_HEAD_SCHEMA,
      config as unknown as Record<string, unknown>,
    ) as Required<SpanHeadConfig>;
    this.outputs = new Linear('qa_outputs', this.config.modelDim, 2, { seed: this.config.seed });
  }

  parameters(): Parameters {
    return this.outputs.parameters();
  }

  /**
   * Start/end logits from hidden states `[B,N,C]`. Padding positions are masked here rather than
   * only in the loss, so that both the softmax of the loss and argmax decoding ignore them.
   */
  apply(hidden: tf.Tensor3D, call: Pick<HeadCall, 'attentionMask'> = {}): SpanLogits {
    return tf.tidy(() => {
      let logits = this.outputs.apply(hidden); // [B,N,2]
      if (call.attentionMask)
        logits = tf.add(
          logits,
          tf.mul(tf.sub(1, call.attentionMask.toFloat()), MASKED).expandDims(2),
        );
      const [start, end] = tf.unstack(logits, 2) as tf.Tensor2D[];
      return { start: start!, end: end! } as unknown as tf.TensorContainerObject;
    }) as unknown as SpanLogits;
  }

  /** Mean of the start and end cross-entropies; `starts`/`ends` `[B]` are token indices. */
  loss(
    hidden: tf.Tensor3D,
    starts: tf.Tensor1D,
    ends: tf.Tensor1D,
    call: Pick<HeadCall, 'attentionMask'> = {},
  ): tf.Scalar {
    return tf.tidy(() => {
      const { start, end } = this.apply(hidden, call);
      return tf.div(
        tf.add(classCrossEntropy(start, starts), classCrossEntropy(end, ends)),
        2,
      ) as tf.Scalar;
    });
  }

  dispose(): void {
    disposeParameters(this.parameters());
  }
}
