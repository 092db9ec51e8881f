/**
 * RoFormer's configuration: the fields of HF `RoFormerConfig` (configuration_roformer.py) in
 * camelCase, with HF's defaults where a default exists.
 */
import { ConfigError, parseConfig, type Activation, type ConfigOf } from '@posenc/core';

export const ROFORMER_SCHEMA = {
  vocabSize: { type: 'number', integer: true, min: 1, doc: 'vocab_size' },
  hiddenSize: { type: 'number', integer: true, min: 1, doc: 'hidden_size' },
  layers: { type: 'number', integer: true, min: 1, doc: 'num_hidden_layers' },
  heads: { type: 'number', integer: true, min: 1, doc: 'num_attention_heads' },
  intermediateSize: {
    type: 'number',
    integer: true,
    min: 1,
    optional: true,
    doc: 'intermediate_size; default 4·hiddenSize (HF: 3072 for 768)',
  },
  embeddingSize: {
    type: 'number',
    integer: true,
    min: 1,
    optional: true,
    doc: 'embedding_size; default hiddenSize (a smaller size adds embeddings_project)',
  },
  maxPositionEmbeddings: {
    type: 'number',
    integer: true,
    min: 1,
    default: 1536,
    doc: "max_position_embeddings: HF's sinusoid table length (1536, the longest pretraining stage); our angles need no table",
  },
  typeVocabSize: { type: 'number', integer: true, min: 1, default: 2, doc: 'type_vocab_size' },
  hiddenAct: {
    type: 'enum',
    values: ['gelu', 'gelu_new', 'relu'],
    default: 'gelu',
    doc: "hidden_act: 'gelu' = exact erf GELU (HF's default), 'gelu_new' = tanh approximation",
  },
  layerNormEps: { type: 'number', greaterThan: 0, default: 1e-12, doc: 'layer_norm_eps' },
  hiddenDropout: { type: 'number', min: 0, max: 0.99, default: 0.1, doc: 'hidden_dropout_prob' },
  rotaryValue: { type: 'boolean', default: false, doc: 'rotary_value: also rotate the values' },
  causal: { type: 'boolean', default: false, doc: 'is_decoder: causal self-attention' },
  attention: {
    type: 'enum',
    values: ['softmax', 'linear'],
    default: 'softmax',
    doc: 'linear = RoPE in linear attention (RoFormer §3.3, Eq. 19)',
  },
  featureMap: {
    type: 'enum',
    values: ['elu+1', 'relu'],
    default: 'elu+1',
    doc: 'linear attention only',
  },
  mlmHead: { type: 'boolean', default: true, doc: 'the masked-LM head of RoFormerForMaskedLM' },
  seed: { type: 'number', integer: true, min: 0, default: 0 },
} as const;

export type RoFormerConfig = ConfigOf<typeof ROFORMER_SCHEMA>;

/** HF's ACT2FN names as core's activations: HF 'gelu' is the exact erf form, 'gelu_new' the tanh one. */
export const HF_ACTIVATIONS = {
  gelu: 'gelu_erf',
  gelu_new: 'gelu',
  relu: 'relu',
} as const satisfies Record<RoFormerConfig['hiddenAct'], Activation>;

/** The validated config with every size resolved. */
export type ResolvedRoFormerConfig = RoFormerConfig & {
  intermediateSize: number;
  embeddingSize: number;
  headDim: number;
};

export function resolveRoFormerConfig(config: Record<string, unknown>): ResolvedRoFormerConfig {
  const c = parseConfig('RoFormer', ROFORMER_SCHEMA, config);
  if (c.hiddenSize % c.heads !== 0)
    throw new ConfigError('RoFormer', 'heads', c.heads, `must divide hiddenSize = ${c.hiddenSize}`);
  return {
    ...c,
    intermediateSize: c.intermediateSize ?? 4 * c.hiddenSize,
    embeddingSize: c.embeddingSize ?? c.hiddenSize,
    headDim: c.hiddenSize / c.heads,
  };
}
