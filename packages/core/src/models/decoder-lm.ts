/**
 * A decoder-only language model (GPT-style) whose position method is a list of encodings.
 */
import { tf } from '../engine/tf.js';
import type { PositionEncoding } from '../encoding/position-encoding.js';
import {
  sequencePositions,
  positionsBatch,
  positionsLength,
  type Positions,
} from '../positions/positions.js';
import {
  collectParameters,
  Embedding,
  LayerNorm,
  Linear,
  disposeParameters,
  type Parameters,
} from '../nn/layers.js';
import {
  transformerStack,
  type TransformerLayer,
  type NormPlacement,
} from './transformer-layer.js';
import { buildEncodings, embedPositions, encodingParameters } from './encodings-in-model.js';
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
    const { vocabSize, modelDim, layers, heads, ffnDim, norm, attention, featureMap, seed } =
      this.config;
    buildEncodings(encodings, attention, {
      layers,
      heads,
      headDim: modelDim / heads,
      modelDim,
      maxPositions: this.config.maxPositions,
      seed,
    });
    this.tokenEmbedding = new Embedding('embed.tokens', vocabSize, modelDim, { seed });
    this.layers = transformerStack(layers, {
      modelDim,
      heads,
      ffnDim,
      norm,
      attention,
      featureMap,
      dropout: this.config.dropout,
      seed,
    });
    if (norm === 'pre') this.finalNorm = new LayerNorm('final_norm', modelDim);
    if (!this.config.tieEmbeddings)
      this.head = new Linear('lm_head', modelDim, vocabSize, { bias: false, seed });
  }

  parameters(): Parameters {
    const modules: { parameters(): Parameters }[] = [this.tokenEmbedding, ...this.layers];
    if (this.finalNorm) modules.push(this.finalNorm);
    if (this.head) modules.push(this.head);
    modules.push({ parameters: () => encodingParameters(this.encodings) });
    return collectParameters(...modules);
  }

  /** Logits for tokens `[B,N]` (int32). */
  forward(tokens: tf.Tensor2D, call: DecoderCall = {}): DecoderForward {
    const [b, n] = tokens.shape;
    const ownPositions = call.positions ? undefined : sequencePositions(b, n);
    const positions = call.positions ?? ownPositions!;
    if (positionsBatch(positions) !== b || positionsLength(positions) !== n)
      throw new Error(
        `DecoderLM: positions describe [${positionsBatch(positions)}, ${positionsLength(positions)}] tokens, input is [${b}, ${n}]`,
      );
    if (call.memories && call.memories.length !== this.layers.length)
      throw new Error(
        `DecoderLM: memories has ${call.memories.length} entries, expected one per layer (${this.layers.length})`,
      );
    if (call.memories && !call.memoryPositions)
      throw new Error('DecoderLM: memories were given without memoryPositions');
    try {
      return tf.tidy(() => {
        const keyPositions =
          call.memoryPositions && positions.kind === '1d' && call.memoryPositions.kind === '1d'
            ? {
                kind: '1d' as const,
                ids: tf.concat([call.memoryPositions.ids, positions.ids], 1) as tf.Tensor2D,
              }
            : undefined;
        let h = embedPositions(
          this.tokenEmbedding.apply(tokens) as tf.Tensor3D,
          this.encodings,
          positions,
        );
        const keySources: tf.Tensor3D[] = [];
        const probs: tf.Tensor4D[] = [];
        this.layers.forEach((layer, i) => {
          const r = layer.apply(h, {
            positions,
            keyPositions,
            memory: call.memories?.[i],
            encodings: this.encodings,
            causal: true,
            training: call.training,
            returnProbs: call.returnProbs,
            dropoutSeed:
              call.dropoutSeed === undefined ? undefined : call.dropoutSeed * 1009 + i * 7,
          });
          h = r.output;
          keySources.push(r.keySource);
          if (r.probs) probs.push(r.probs);
        });
        if (this.finalNorm) h = this.finalNorm.apply(h);
        const logits = this.head
          ? (this.head.apply(h) as tf.Tensor3D)
          : (tf
              .matMul(h.reshape([b * n, -1]), this.tokenEmbedding.weight, false, true)
              .reshape([b, n, -1]) as tf.Tensor3D);
        const out: Record<string, tf.Tensor | tf.Tensor[]> = { logits, keySources };
        if (call.returnProbs) out['probs'] = probs;
        return out as unknown as tf.TensorContainerObject;
      }) as unknown as DecoderForward;
    } finally {
      ownPositions?.ids.dispose();
    }
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
    for (const e of this.encodings) e.dispose?.();
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
