/**
 * RoFormer (Su et al. 2021): a BERT-style encoder whose every self-attention layer rotates
 * queries and keys by their positions, with no absolute position embedding at the input. The
 * structure, names of sizes and defaults follow HF `RoFormerModel`/`RoFormerForMaskedLM`
 * (modeling_roformer.py); `hf-weights.ts` maps its safetensors names onto ours.
 */
import {
  activate,
  assertLikeTokens,
  collectParameters,
  ConfigError,
  createEncoding,
  disposeParameters,
  Embedding,
  LayerNorm,
  Linear,
  tf,
  tokenCrossEntropy,
  TransformerBody,
  withPositions,
  zerosParameter,
  type Parameters,
  type Positions,
  type TransformerLayer,
} from '@posenc/core';
import { RopeEncoding, type RopeConfig } from '../encoding/rope-encoding.js';
import {
  HF_ACTIVATIONS,
  resolveRoFormerConfig,
  type ResolvedRoFormerConfig,
  type RoFormerConfig,
} from './config.js';

/** Rope settings a RoFormer may change (RoFormer's own: interleaved, θ = 10000, every feature). */
export type RoFormerRopeConfig = Partial<Omit<RopeConfig, 'rotaryValue'>>;

export interface RoFormerOptions extends Partial<RoFormerConfig> {
  vocabSize: number;
  hiddenSize: number;
  layers: number;
  heads: number;
  /** Overrides of the rope encoding, e.g. `{ layout: 'half' }` or a scaling for longer inputs. */
  rope?: RoFormerRopeConfig;
}

export interface RoFormerCall {
  /** `[B,N]` 1 for real tokens, 0 for padding (HF `attention_mask`). */
  attentionMask?: tf.Tensor2D;
  /** `[B,N]` token types (HF `token_type_ids`); all 0 when absent. */
  tokenTypes?: tf.Tensor2D;
  /** Positions of the tokens; default 0 … N−1 (HF `position_ids`). */
  positions?: Positions;
  training?: boolean;
  /** Seed of this call's dropout masks; dropout runs only in training with a seed. */
  dropoutSeed?: number;
  /** Attention probabilities per layer (softmax attention). */
  returnProbs?: boolean;
}

export interface RoFormerForward {
  /** `[B,N,hiddenSize]`, HF `last_hidden_state`. */
  hidden: tf.Tensor3D;
  probs?: tf.Tensor4D[];
}

/** HF's label value for tokens without a masked-LM target. */
export const IGNORE_INDEX = -100;

export class RoFormer {
  readonly config: ResolvedRoFormerConfig;
  /** The one rope encoding every layer's attention calls. */
  readonly rope: RopeEncoding;
  /** Post-LN layers with HF `RoFormerLayer`'s semantics (BERT's block). */
  readonly layers: TransformerLayer[];
  private readonly body: TransformerBody;
  readonly wordEmbeddings: Embedding;
  readonly typeEmbeddings: Embedding;
  readonly embeddingNorm: LayerNorm;
  /** Present when embeddingSize ≠ hiddenSize (HF `embeddings_project`). */
  readonly embeddingProject?: Linear;
  /** Masked-LM head (HF `cls.predictions`); its decoder is tied to the word embeddings. */
  readonly mlm?: { transform: Linear; norm: LayerNorm; bias: tf.Variable };

  constructor(options: RoFormerOptions) {
    const { rope = {}, ...config } = options;
    this.config = resolveRoFormerConfig(config);
    const c = this.config;
    this.rope = createEncoding({
      ...rope,
      name: 'rope',
      rotaryValue: c.rotaryValue,
    }) as RopeEncoding;
    if (this.rope.config.xpos && !c.causal)
      throw new ConfigError(
        'RoFormer',
        'rope.xpos',
        true,
        'xPos needs causal: true (it is defined for causal attention)',
      );
    if (c.attention === 'linear' && !this.rope.supports.includes('linear'))
      throw new Error(
        `RoFormer: the rope settings ${JSON.stringify(rope)} do not support linear attention`,
      );
    this.body = new TransformerBody(
      {
        owner: 'RoFormer',
        layers: c.layers,
        modelDim: c.hiddenSize,
        heads: c.heads,
        ffnDim: c.intermediateSize,
        norm: 'post',
        attention: c.attention,
        featureMap: c.featureMap,
        activation: HF_ACTIVATIONS[c.hiddenAct],
        layerNormEps: c.layerNormEps,
        dropout: c.hiddenDropout,
        maxPositions: c.maxPositionEmbeddings,
        seed: c.seed,
      },
      [this.rope],
    );
    this.wordEmbeddings = new Embedding('embed.tokens', c.vocabSize, c.embeddingSize, {
      seed: c.seed,
    });
    this.typeEmbeddings = new Embedding('embed.types', c.typeVocabSize, c.embeddingSize, {
      seed: c.seed,
    });
    this.embeddingNorm = new LayerNorm('embed.norm', c.embeddingSize, c.layerNormEps);
    if (c.embeddingSize !== c.hiddenSize)
      this.embeddingProject = new Linear('embed.project', c.embeddingSize, c.hiddenSize, {
        seed: c.seed,
      });
    this.layers = this.body.buildLayers();
    if (c.mlmHead)
      this.mlm = {
        transform: new Linear('mlm.transform', c.hiddenSize, c.embeddingSize, { seed: c.seed }),
        norm: new LayerNorm('mlm.norm', c.embeddingSize, c.layerNormEps),
        bias: zerosParameter([c.vocabSize]),
      };
  }

  /** Parameters by stable name (the keys of our checkpoints). */
  parameters(): Parameters {
    const modules: { parameters(): Parameters }[] = [
      this.wordEmbeddings,
      this.typeEmbeddings,
      this.embeddingNorm,
    ];
    if (this.embeddingProject) modules.push(this.embeddingProject);
    modules.push(...this.layers);
    if (this.mlm) {
      const { transform, norm, bias } = this.mlm;
      modules.push(transform, norm, { parameters: () => ({ 'mlm.bias': bias }) });
    }
    modules.push({ parameters: () => this.body.encodingParameters() });
    return collectParameters(...modules);
  }

  /** Hidden states for tokens `[B,N]` (int32). */
  forward(tokens: tf.Tensor2D, call: RoFormerCall = {}): RoFormerForward {
    const [b, n] = tokens.shape;
    const input = { owner: 'RoFormer', batch: b, length: n, sharedRow: true };
    assertLikeTokens(input, 'attentionMask', call.attentionMask);
    assertLikeTokens(input, 'tokenTypes', call.tokenTypes);
    return withPositions(
      call.positions,
      input,
      (positions) =>
        tf.tidy(() => {
          const types = call.tokenTypes ?? tf.zerosLike(tokens);
          let h = tf.add(
            this.wordEmbeddings.apply(tokens),
            this.typeEmbeddings.apply(types),
          ) as tf.Tensor3D;
          h = this.body.dropoutEmbeddings(this.embeddingNorm.apply(h), call);
          if (this.embeddingProject) h = this.embeddingProject.apply(h) as tf.Tensor3D;
          const body = this.body.run(h, {
            positions,
            causal: this.config.causal,
            keyValid: call.attentionMask,
            training: call.training,
            dropoutSeed: call.dropoutSeed,
            returnProbs: call.returnProbs,
          });
          const out: Record<string, tf.Tensor | tf.Tensor[]> = { hidden: body.output };
          if (call.returnProbs) out['probs'] = body.probs;
          return out as unknown as tf.TensorContainerObject;
        }) as unknown as RoFormerForward,
    );
  }

  /** Masked-LM logits `[B,N,V]` from hidden states (HF `RoFormerOnlyMLMHead`, tied decoder). */
  mlmLogits(hidden: tf.Tensor3D): tf.Tensor3D {
    const head = this.requireHead();
    return tf.tidy(() => {
      const t = head.norm.apply(
        activate(head.transform.apply(hidden), HF_ACTIVATIONS[this.config.hiddenAct]),
      );
      const [b, n, e] = t.shape as [number, number, number];
      const logits = tf.add(
        tf.matMul(t.reshape([b * n, e]), this.wordEmbeddings.weight, false, true),
        head.bias,
      );
      return logits.reshape([b, n, this.config.vocabSize]) as tf.Tensor3D;
    });
  }

  /**
   * Mean masked-LM cross-entropy (nats) over tokens whose label is not −100 (HF's ignore index),
   * as `RoFormerForMaskedLM`'s loss.
   */
  mlmLoss(tokens: tf.Tensor2D, labels: tf.Tensor2D, call: RoFormerCall = {}): tf.Scalar {
    return tf.tidy(() => {
      const logits = this.mlmLogits(this.forward(tokens, call).hidden);
      const scored = tf.notEqual(labels, IGNORE_INDEX) as tf.Tensor2D;
      const targets = tf.where(scored, labels, tf.zerosLike(labels)) as tf.Tensor2D;
      return tokenCrossEntropy(logits, targets, scored);
    });
  }

  dispose(): void {
    disposeParameters(this.parameters());
    this.body.disposeEncodings();
  }

  private requireHead(): NonNullable<RoFormer['mlm']> {
    if (!this.mlm)
      throw new Error(
        'RoFormer: this model was built with mlmHead: false; it has no masked-LM head',
      );
    return this.mlm;
  }
}
