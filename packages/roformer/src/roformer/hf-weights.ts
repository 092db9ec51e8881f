/**
 * RoFormer weights in Hugging Face's names and layouts (modeling_roformer.py), read and written
 * with core's safetensors I/O. HF's `nn.Linear` stores `[out, in]` and computes x·Wᵀ; ours stores
 * `[in, out]` and computes x·W, so linear weights are transposed on the way. A checkpoint of
 * `RoFormerForMaskedLM` prefixes the encoder with `roformer.` and adds `cls.predictions.*`; one of
 * `RoFormerModel` has no prefix. HF's fixed sinusoid table `encoder.embed_positions.weight` is
 * not a parameter here (angles come from the formula); on load it is checked against the
 * formula, on save it is written so HF loads the file without missing keys.
 *
 * Runs in any runtime; writing files and reading `config.json` from a path are in
 * `./hf-files.ts` (Node only).
 */
import {
  decodeToFloat32,
  encodeTensorEntry,
  readSafetensors,
  serializeSafetensors,
  tf,
  type SafetensorsSource,
  type TensorEntry,
} from '@posenc/core';
import type { ResolvedRoFormerConfig, RoFormerConfig } from './config.js';
import { RoFormer, type RoFormerOptions } from './model.js';

export interface HFNameMapping {
  /** HF state-dict key (without the `roformer.` prefix for encoder weights). */
  readonly hf: string;
  /** Our parameter name. */
  readonly ours: string;
  /** HF `[out, in]` ↔ ours `[in, out]`. */
  readonly transpose: boolean;
  /** Whether the key lives under the `roformer.` prefix in a masked-LM checkpoint. */
  readonly encoder: boolean;
}

/** HF key of the fixed sinusoid table, under the encoder prefix. */
export const HF_POSITION_TABLE = 'encoder.embed_positions.weight';
/** The metadata HF's `save_pretrained` writes. */
export const HF_METADATA = { format: 'pt' };
/** Keys HF ties to others (`_tied_weights_keys`): the decoder is the word embedding matrix. */
export const HF_TIED_KEYS = ['cls.predictions.decoder.weight', 'cls.predictions.decoder.bias'];
const ENCODER_PREFIX = 'roformer.';

/** Every parameter of a RoFormer with this config, HF name ↔ ours. */
export function hfRoFormerNames(config: ResolvedRoFormerConfig): HFNameMapping[] {
  const names: HFNameMapping[] = [];
  const add = (hf: string, ours: string, transpose = false, encoder = true) =>
    names.push({ hf, ours, transpose, encoder });
  const linear = (hf: string, ours: string, encoder = true) => {
    add(`${hf}.weight`, `${ours}.weight`, true, encoder);
    add(`${hf}.bias`, `${ours}.bias`, false, encoder);
  };
  const norm = (hf: string, ours: string, encoder = true) => {
    add(`${hf}.weight`, `${ours}.weight`, false, encoder);
    add(`${hf}.bias`, `${ours}.bias`, false, encoder);
  };
  add('embeddings.word_embeddings.weight', 'embed.tokens.weight');
  add('embeddings.token_type_embeddings.weight', 'embed.types.weight');
  norm('embeddings.LayerNorm', 'embed.norm');
  if (config.embeddingSize !== config.hiddenSize) linear('embeddings_project', 'embed.project');
  for (let i = 0; i < config.layers; i++) {
    const hf = `encoder.layer.${i}`;
    const ours = `layers.${i}`;
    linear(`${hf}.attention.self.query`, `${ours}.attn.wq`);
    linear(`${hf}.attention.self.key`, `${ours}.attn.wk`);
    linear(`${hf}.attention.self.value`, `${ours}.attn.wv`);
    linear(`${hf}.attention.output.dense`, `${ours}.attn.wo`);
    norm(`${hf}.attention.output.LayerNorm`, `${ours}.norm1`);
    linear(`${hf}.intermediate.dense`, `${ours}.ffn.in`);
    linear(`${hf}.output.dense`, `${ours}.ffn.out`);
    norm(`${hf}.output.LayerNorm`, `${ours}.norm2`);
  }
  if (config.mlmHead) {
    linear('cls.predictions.transform.dense', 'mlm.transform', false);
    norm('cls.predictions.transform.LayerNorm', 'mlm.norm', false);
    add('cls.predictions.bias', 'mlm.bias', false, false);
  }
  return names;
}

/** The full HF key: masked-LM checkpoints put the encoder under `roformer.`. */
function fullKey(m: HFNameMapping, prefix: string): string {
  return m.encoder ? `${prefix}${m.hf}` : m.hf;
}

/**
 * HF `RoFormerSinusoidalPositionalEmbedding.create_weight`: row p holds sin(p·θ_i) for i < d/2
 * in its first half and cos(p·θ_i) in its second, θ_i = 10000^(−2i/d), computed in float64.
 */
export function hfPositionTable(rows: number, dim: number): Float32Array {
  const half = Math.ceil(dim / 2);
  const table = new Float32Array(rows * dim);
  for (let p = 0; p < rows; p++)
    for (let j = 0; j < dim; j++) {
      const i = j < half ? j : j - half;
      const angle = p / Math.pow(10000, (2 * i) / dim);
      table[p * dim + j] = j < half ? Math.sin(angle) : Math.cos(angle);
    }
  return table;
}

export interface LoadHFOptions {
  /** Keys that map to nothing here (e.g. a classification head) are skipped instead of refused. */
  ignoreUnexpected?: boolean;
}

export interface LoadHFReport {
  /** HF keys that became our parameters. */
  loaded: string[];
  /** Keys read but not loaded: tied copies, the position table (checked), unexpected ones when allowed. */
  skipped: string[];
}

/**
 * Assigns HF-named tensors to `model`. Everything is checked (names, shapes, the position table)
 * before any parameter changes, so a bad file leaves the model as it was.
 */
export function assignHFRoFormerWeights(
  model: RoFormer,
  tensors: ReadonlyMap<string, TensorEntry>,
  options: LoadHFOptions = {},
): LoadHFReport {
  const config = model.config;
  const prefix = [...tensors.keys()].some((k) => k.startsWith(ENCODER_PREFIX))
    ? ENCODER_PREFIX
    : '';
  const params = model.parameters();
  const mappings = hfRoFormerNames(config);
  const missing = mappings.map((m) => fullKey(m, prefix)).filter((k) => !tensors.has(k));
  if (missing.length > 0)
    throw new Error(
      `HF RoFormer weights: ${missing.length} key(s) missing for this config (layers ${config.layers}, mlmHead ${config.mlmHead}), e.g. ${missing.slice(0, 5).join(', ')}`,
    );
  const known = new Set(mappings.map((m) => fullKey(m, prefix)));
  const tableKey = `${prefix}${HF_POSITION_TABLE}`;
  const skipped: string[] = [];
  const unexpected: string[] = [];
  for (const key of tensors.keys()) {
    if (known.has(key)) continue;
    if (key === tableKey || HF_TIED_KEYS.includes(key)) skipped.push(key);
    else unexpected.push(key);
  }
  if (unexpected.length > 0 && !options.ignoreUnexpected)
    throw new Error(
      `HF RoFormer weights: ${unexpected.length} key(s) map to no parameter of this model, e.g. ${unexpected.slice(0, 5).join(', ')} (pass ignoreUnexpected to skip them)`,
    );
  skipped.push(...unexpected);
  const table = tensors.get(tableKey);
  if (table) checkPositionTable(table, config.headDim, tableKey);

  const values = new Map<string, Float32Array>();
  for (const m of mappings) {
    const key = fullKey(m, prefix);
    const entry = tensors.get(key)!;
    const target = params[m.ours];
    if (!target)
      throw new Error(`HF RoFormer weights: the model has no parameter '${m.ours}' for ${key}`);
    const want = m.transpose ? [...target.shape].reverse() : target.shape;
    if (entry.shape.join() !== want.join())
      throw new Error(
        `HF RoFormer weights: ${key} has shape [${entry.shape}], expected [${want}] for this config`,
      );
    values.set(m.ours, decodeToFloat32(entry));
  }
  tf.tidy(() => {
    for (const m of mappings) {
      const target = params[m.ours]!;
      const shape = m.transpose ? [...target.shape].reverse() : target.shape;
      const t = tf.tensor(values.get(m.ours)!, shape, 'float32');
      target.assign(m.transpose ? t.transpose() : t);
    }
  });
  return { loaded: mappings.map((m) => fullKey(m, prefix)), skipped };
}

function checkPositionTable(entry: TensorEntry, headDim: number, key: string): void {
  const [rows, dim] = entry.shape;
  if (entry.shape.length !== 2 || dim !== headDim)
    throw new Error(
      `HF RoFormer weights: ${key} has shape [${entry.shape}], expected [maxPositions, ${headDim}]`,
    );
  const stored = decodeToFloat32(entry);
  const formula = hfPositionTable(rows!, headDim);
  // Half-precision checkpoints store the table rounded; float32 ones match to rounding.
  const tolerance = entry.dtype === 'F16' || entry.dtype === 'BF16' ? 1e-2 : 1e-6;
  for (let i = 0; i < stored.length; i++)
    if (Math.abs(stored[i]! - formula[i]!) > tolerance)
      throw new Error(
        `HF RoFormer weights: ${key}[${Math.floor(i / headDim)}][${i % headDim}] = ${stored[i]} differs from the sinusoid formula (${formula[i]}); this model computes its angles from the formula and cannot reproduce that table`,
      );
}

/** Our parameters as HF-named safetensors entries (float32), plus HF's position table. */
export function hfRoFormerEntries(model: RoFormer): Record<string, TensorEntry> {
  const config = model.config;
  const prefix = config.mlmHead ? ENCODER_PREFIX : '';
  const params = model.parameters();
  const entries: Record<string, TensorEntry> = {};
  tf.tidy(() => {
    for (const m of hfRoFormerNames(config)) {
      const p = params[m.ours]!;
      const t = m.transpose ? p.transpose() : p;
      entries[fullKey(m, prefix)] = encodeTensorEntry(t.dataSync() as Float32Array, t.shape, 'F32');
    }
  });
  entries[`${prefix}${HF_POSITION_TABLE}`] = encodeTensorEntry(
    hfPositionTable(config.maxPositionEmbeddings, config.headDim),
    [config.maxPositionEmbeddings, config.headDim],
    'F32',
  );
  return entries;
}

/** The bytes of an HF `model.safetensors` of `model` (with HF's `format: pt` metadata). */
export function hfRoFormerSafetensors(model: RoFormer): Uint8Array {
  return serializeSafetensors(hfRoFormerEntries(model), HF_METADATA);
}

/** Reads HF RoFormer weights (bytes, a Response, a URL or, in Node, a path) into `model`. */
export async function loadHFRoFormer(
  model: RoFormer,
  source: SafetensorsSource,
  options: LoadHFOptions = {},
): Promise<LoadHFReport> {
  const file = await readSafetensors(source);
  return assignHFRoFormerWeights(model, file.tensors, options);
}

/** HF `config.json` fields of a RoFormer (model_type "roformer"). */
export function toHFConfig(config: ResolvedRoFormerConfig): Record<string, unknown> {
  return {
    model_type: 'roformer',
    architectures: [config.mlmHead ? 'RoFormerForMaskedLM' : 'RoFormerModel'],
    vocab_size: config.vocabSize,
    embedding_size: config.embeddingSize,
    hidden_size: config.hiddenSize,
    num_hidden_layers: config.layers,
    num_attention_heads: config.heads,
    intermediate_size: config.intermediateSize,
    hidden_act: config.hiddenAct,
    hidden_dropout_prob: config.hiddenDropout,
    max_position_embeddings: config.maxPositionEmbeddings,
    type_vocab_size: config.typeVocabSize,
    layer_norm_eps: config.layerNormEps,
    rotary_value: config.rotaryValue,
    is_decoder: config.causal,
  };
}

/** Our options from an HF `config.json`; fields we do not model (dropout on probabilities, …) are ignored. */
export function fromHFConfig(hf: Record<string, unknown>, mlmHead = true): RoFormerOptions {
  const need = (field: string): number => {
    const v = hf[field];
    if (typeof v !== 'number')
      throw new Error(
        `HF RoFormer config: field '${field}' = ${JSON.stringify(v)} is not allowed; expected a number`,
      );
    return v;
  };
  const optional = <T>(field: string): T | undefined =>
    hf[field] === undefined || hf[field] === null ? undefined : (hf[field] as T);
  const options: RoFormerOptions = {
    vocabSize: need('vocab_size'),
    hiddenSize: need('hidden_size'),
    layers: need('num_hidden_layers'),
    heads: need('num_attention_heads'),
    mlmHead,
  };
  const copy: [keyof RoFormerConfig, string][] = [
    ['intermediateSize', 'intermediate_size'],
    ['embeddingSize', 'embedding_size'],
    ['maxPositionEmbeddings', 'max_position_embeddings'],
    ['typeVocabSize', 'type_vocab_size'],
    ['hiddenAct', 'hidden_act'],
    ['layerNormEps', 'layer_norm_eps'],
    ['hiddenDropout', 'hidden_dropout_prob'],
    ['rotaryValue', 'rotary_value'],
    ['causal', 'is_decoder'],
  ];
  for (const [ours, theirs] of copy) {
    const v = optional<unknown>(theirs);
    if (v !== undefined) (options as unknown as Record<string, unknown>)[ours] = v;
  }
  return options;
}
