/**
 * A decoder-only language model (GPT-style) whose position method is a list of encodings.
 */
import { tf } from '../engine/tf.js';
import type { PositionEncoding } from '../encoding/position-encoding.js';
import type { Positions } from '../positions/positions.js';
import {
  collectParameters,
  Embedding,
  LayerNorm,
  Linear,
  disposeParameters,
  type Parameters,
} from '../nn/layers.js';
import type { TransformerLayer, NormPlacement } from './transformer-layer.js';
import { TransformerBody } from './transformer-body.js';
import { withPositions } from './call-inputs.js';
import { softmaxCrossEntropy } from '../nn/cross-entropy.js';
import {
  parseTransformerConfig,
  TRANSFORMER_FIELDS,
  type TransformerConfig,
} from './transformer-config.js';

const DECODER_SCHEMA = {
  ...TRANSFORMER_FIELDS,
  vocabSize: { type: 'number', integer: true, min: 1 },
  maxPositions: { type: 'number', integer: true, min: 1, default: 1024 },
  norm: { type: 'enum', values: ['pre', 'post'], default: 'pre' },
  tieEmbeddings: { type: 'boolean', default: true },
} as const;

export interface DecoderLMConfig extends TransformerConfig {
  vocabSize: number;
  maxPositions?: number;
  norm?: NormPlacement;
  tieEmbeddings?: boolean;
}

export interface DecoderForward {
  /** `[B,N,V]` */
  logits: tf.Tensor3D;
  /** Per layer, what its keys/values were computed from (a cache for the next subsequence). */
  keySources: tf.Tensor3D[];
  /** Per layer `[B,H,N,Nk]`, on request. */
  probs?: tf.Tensor4D[];
}

export interface DecoderCall {
  /** Position ids of the tokens; default 0…N−1. */
  positions?: Positions;
  /** Per layer cached key sources `[B,M,C]`, with `memoryPositions` for them. */
  memories?: tf.Tensor3D[];
  memoryPositions?: Positions;
  training?: boolean;
  dropoutSeed?: number;
  returnProbs?: boolean;
}

export class DecoderLM {
  readonly config: Required<DecoderLMConfig>;
  readonly layers: TransformerLayer[];
  private readonly body: TransformerBody;
  private readonly tokenEmbedding: Embedding;
  private readonly finalNorm?: LayerNorm;
  private readonly head?: Linear;

  constructor(
    config: DecoderLMConfig,
    readonly encodings: readonly PositionEncoding[],
  ) {
    this.config = parseTransformerConfig(
      'DecoderLM',
      DECODER_SCHEMA,
      config,
    ) as Required<DecoderLMConfig>;
    const { vocabSize, modelDim, norm, seed } = this.config;
    this.body = new TransformerBody({ owner: 'DecoderLM', ...this.config }, encodings);
    this.tokenEmbedding = new Embedding('embed.tokens', vocabSize, modelDim, { seed });
    this.layers = this.body.buildLayers();
    if (norm === 'pre') this.finalNorm = new LayerNorm('final_norm', modelDim);
    if (!this.config.tieEmbeddings)
      this.head = new Linear('lm_head', modelDim, vocabSize, { bias: false, seed });
  }

  parameters(): Parameters {
    const modules: { parameters(): Parameters }[] = [this.tokenEmbedding, ...this.layers];
    if (this.finalNorm) modules.push(this.finalNorm);
    if (this.head) modules.push(this.head);
    modules.push({ parameters: () => this.body.encodingParameters() });
    return collectParameters(...modules);
  }

  /** Logits for tokens `[B,N]` (int32). */
  forward(tokens: tf.Tensor2D, call: DecoderCall = {}): DecoderForward {
    const [b, n] = tokens.shape;
    if (call.memories && !call.memoryPositions)
      throw new Error('DecoderLM: memories were given without memoryPositions');
    return withPositions(
      call.positions,
      { owner: 'DecoderLM', batch: b, length: n },
      (positions) =>
        tf.tidy(() => {
          const keyPositions =
            call.memoryPositions && positions.kind === '1d' && call.memoryPositions.kind === '1d'
              ? {
                  kind: '1d' as const,
                  ids: tf.concat([call.memoryPositions.ids, positions.ids], 1) as tf.Tensor2D,
                }
              : undefined;
          const embedded = this.body.embed(
            this.tokenEmbedding.apply(tokens) as tf.Tensor3D,
            positions,
          );
          const body = this.body.run(embedded, {
            positions,
            keyPositions,
            memories: call.memories,
            causal: true,
            training: call.training,
            dropoutSeed: call.dropoutSeed,
            returnProbs: call.returnProbs,
          });
          const h = this.finalNorm ? this.finalNorm.apply(body.output) : body.output;
          const logits = this.head
            ? (this.head.apply(h) as tf.Tensor3D)
            : (tf
                .matMul(h.reshape([b * n, -1]), this.tokenEmbedding.weight, false, true)
                .reshape([b, n, -1]) as tf.Tensor3D);
          const out: Record<string, tf.Tensor | tf.Tensor[]> = {
            logits,
            keySources: body.keySources,
          };
          if (call.returnProbs) out['probs'] = body.probs;
          return out as unknown as tf.TensorContainerObject;
        }) as unknown as DecoderForward,
    );
  }

  /**
   * Mean next-token cross-entropy in nats over the tokens where `lossMask` is 1 (all when absent).
   * `targets` `[B,N]` are the tokens that follow `tokens`.
   */
  loss(
    tokens: tf.Tensor2D,
    targets: tf.Tensor2D,
    call: DecoderCall & { lossMask?: tf.Tensor2D } = {},
  ): tf.Scalar {
    return tf.tidy(() => {
      const { logits } = this.forward(tokens, call);
      return tokenCrossEntropy(logits, targets, call.lossMask);
    });
  }

  dispose(): void {
    disposeParameters(this.parameters());
    this.body.disposeEncodings();
  }
}

/** Per-token negative log-likelihood `[B,N]` in nats (one kernel call on engines that have it). */
export function tokenNll(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Tensor2D {
  return softmaxCrossEntropy(logits, targets) as tf.Tensor2D;
}

/** Mean NLL over masked tokens. */
export function tokenCrossEntropy(
  logits: tf.Tensor3D,
  targets: tf.Tensor2D,
  mask?: tf.Tensor2D,
): tf.Scalar {
  return tf.tidy(() => {
    const nll = tokenNll(logits, targets);
    if (!mask) return tf.mean(nll) as tf.Scalar;
    const m = mask.toFloat();
    return tf.div(tf.sum(tf.mul(nll, m)), tf.maximum(tf.sum(m), 1)) as tf.Scalar;
  });
}
