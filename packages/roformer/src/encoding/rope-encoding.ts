/**
 * The `rope` encoding for core's attention. Softmax attention: the `queryKey` hook rotates q at
 * the query positions and k (and v with `rotaryValue`, HF RoFormer's `config.rotary_value`) at
 * the key positions, so a cache or a segment with its own positions is handled. Linear
 * attention: the `linearFeatures` hook rotates the feature-mapped queries and keys of the
 * numerator only and leaves the normaliser unrotated (RoFormer Eq. 19, §3.3). 2D grid positions
 * (core's ViT) get axial RoPE; skip tokens (the class token) stay unrotated.
 */
import {
  ConfigError,
  type AttentionContext,
  type AttentionKind,
  type ConfigOf,
  type EncodingBuildSpec,
  type EncodingDefinition,
  type FusedRotation,
  type LinearFeatures,
  type PositionEncoding,
  type QKV,
  type Schema,
  supportedAttention,
  tf,
} from '@posenc/core';
import { AngleTableCache } from '../rope/angle-tables.js';
import {
  cachedAngleTables,
  defaultXposCenter,
  resolveRope,
  rotateAt,
  rotationAttributes,
  type ResolvedRope,
  type RopeOptions,
} from '../rope/apply-rope.js';
import { checkRotationShapes } from '../rope/rotary-kernel.js';
import { maxCoordinate, readCoordinates, type Coordinates } from '../rope/coordinates.js';
import type { RopeScaling } from '../rope/frequencies.js';

export const ROPE_PACKAGE = '@posenc/roformer';

export const ropeSchema = {
  layout: {
    type: 'enum',
    values: ['interleaved', 'half'],
    default: 'interleaved',
    doc: "'interleaved' = RoFormer/GPT-J pairs (2i, 2i+1); 'half' = GPT-NeoX/LLaMA pairs (i, i+d/2)",
  },
  base: { type: 'number', greaterThan: 1, default: 10000, doc: 'θ (rope_theta)' },
  rotaryDim: {
    type: 'number',
    integer: true,
    min: 2,
    optional: true,
    doc: 'rotated features per head (even; a multiple of 4 on 2D grids); default headDim − rotaryStart',
  },
  partialRotaryFactor: {
    type: 'number',
    greaterThan: 0,
    max: 1,
    optional: true,
    doc: "HF's partial_rotary_factor: rotaryDim = int(headDim·factor); exclusive with rotaryDim",
  },
  rotaryStart: { type: 'number', integer: true, min: 0, default: 0, doc: 'first rotated feature' },
  rotaryValue: {
    type: 'boolean',
    default: false,
    doc: 'also rotate values at the key positions (HF RoFormer rotary_value)',
  },
  scaling: {
    type: 'enum',
    values: ['none', 'linear', 'ntk', 'dynamic', 'yarn', 'llama3'],
    default: 'none',
    doc: 'longer-context scaling, formulas of HF modeling_rope_utils (ntk: fixed NTK-aware base rescale)',
  },
  factor: {
    type: 'number',
    min: 1,
    optional: true,
    doc: 'scaling factor; required with a scaling',
  },
  maxPositions: {
    type: 'number',
    integer: true,
    min: 1,
    optional: true,
    doc: "dynamic: the trained length (HF max_position_embeddings); default the model's maxPositions",
  },
  originalMaxPositions: {
    type: 'number',
    integer: true,
    min: 1,
    optional: true,
    doc: "yarn, llama3: the pretraining length; default the model's maxPositions",
  },
  betaFast: { type: 'number', greaterThan: 0, optional: true, doc: 'yarn: default 32' },
  betaSlow: { type: 'number', greaterThan: 0, optional: true, doc: 'yarn: default 1' },
  truncate: { type: 'boolean', optional: true, doc: 'yarn: whole-pair ramp bounds; default true' },
  attentionFactor: {
    type: 'number',
    greaterThan: 0,
    optional: true,
    doc: 'yarn: overrides 0.1·ln(factor)+1',
  },
  mscale: { type: 'number', greaterThan: 0, optional: true, doc: 'yarn (DeepSeek)' },
  mscaleAllDim: { type: 'number', greaterThan: 0, optional: true, doc: 'yarn (DeepSeek)' },
  lowFreqFactor: { type: 'number', greaterThan: 0, optional: true, doc: 'llama3: default 1' },
  highFreqFactor: { type: 'number', greaterThan: 0, optional: true, doc: 'llama3: default 4' },
  xpos: {
    type: 'boolean',
    default: false,
    doc: 'xPos (Sun et al. 2022): q·ζ^(p/scaleBase), k·ζ^(−p/scaleBase); causal softmax attention only',
  },
  xposScaleBase: { type: 'number', greaterThan: 0, default: 512 },
} as const satisfies Schema;

export type RopeConfig = ConfigOf<typeof ropeSchema>;

const OWNER = "encoding 'rope'";

/** Fields each scaling reads; any other scaling field given is a mistake worth reporting. */
const SCALING_FIELDS: Record<RopeConfig['scaling'], readonly (keyof RopeConfig)[]> = {
  none: [],
  linear: ['factor'],
  ntk: ['factor'],
  dynamic: ['factor', 'maxPositions'],
  yarn: [
    'factor',
    'originalMaxPositions',
    'betaFast',
    'betaSlow',
    'truncate',
    'attentionFactor',
    'mscale',
    'mscaleAllDim',
  ],
  llama3: ['factor', 'originalMaxPositions', 'lowFreqFactor', 'highFreqFactor'],
};
const ALL_SCALING_FIELDS = [...new Set(Object.values(SCALING_FIELDS).flat())];

function checkConfig(c: RopeConfig): void {
  if (c.rotaryDim !== undefined && c.partialRotaryFactor !== undefined)
    throw new ConfigError(
      OWNER,
      'partialRotaryFactor',
      c.partialRotaryFactor,
      'give either rotaryDim or partialRotaryFactor, not both',
    );
  if (c.scaling !== 'none' && c.factor === undefined)
    throw new ConfigError(
      OWNER,
      'factor',
      c.factor,
      `required with scaling '${c.scaling}': a number ≥ 1`,
    );
  for (const field of ALL_SCALING_FIELDS)
    if (c[field] !== undefined && !SCALING_FIELDS[c.scaling].includes(field))
      throw new ConfigError(
        OWNER,
        field,
        c[field],
        `not used by scaling '${c.scaling}'; it applies to: ${Object.entries(SCALING_FIELDS)
          .filter(([, fields]) => fields.includes(field))
          .map(([name]) => name)
          .join(', ')}`,
      );
  const lowFreq = c.lowFreqFactor ?? 1;
  const highFreq = c.highFreqFactor ?? 4;
  if (c.scaling === 'llama3' && !(highFreq > lowFreq))
    throw new ConfigError(
      OWNER,
      'highFreqFactor',
      highFreq,
      `must be > lowFreqFactor = ${lowFreq}`,
    );
  if (c.scaling === 'yarn' && (c.betaFast ?? 32) < (c.betaSlow ?? 1))
    throw new ConfigError(
      OWNER,
      'betaFast',
      c.betaFast ?? 32,
      `must be ≥ betaSlow = ${c.betaSlow ?? 1}`,
    );
}

export class RopeEncoding implements PositionEncoding {
  readonly name = 'rope';
  private readonly cache = new AngleTableCache();
  private spec: EncodingBuildSpec | undefined;

  constructor(readonly config: RopeConfig) {
    checkConfig(config);
  }

  get supports(): readonly AttentionKind[] {
    return supportedAttention(ropeDefinition, this.config);
  }

  /** Checks the rotated slice against the head size now, so a bad config fails at model build. */
  build(spec: EncodingBuildSpec): void {
    this.spec = spec;
    const probe: Coordinates = { kind: '1d', rows: 1, length: 1, values: new Float64Array(1) };
    resolveRope(spec.headDim, probe, this.ropeOptions(spec.headDim, 1, undefined), OWNER);
  }

  /** Softmax attention: rotate q, k (and v) before the scores. Linear: only v, when asked. */
  queryKey(qkv: QKV, ctx: AttentionContext): QKV {
    if (ctx.kind === 'linear' && !this.config.rotaryValue) return qkv;
    const { queries, keys } = this.coordinates(ctx, qkv.q, qkv.k);
    const headDim = qkv.q.shape[3];
    if (ctx.kind === 'linear')
      return { ...qkv, v: this.rotate(qkv.v, keys, queries, headDim, undefined) };
    if (this.config.xpos && !ctx.causal)
      throw new Error(
        `${OWNER}: xpos on non-causal attention (layer ${ctx.layer}) grows scores toward one side without bound; xPos is for causal attention (x-transformers asserts the same)`,
      );
    return {
      q: this.rotate(qkv.q, queries, keys, headDim, this.config.xpos ? 'query' : undefined),
      k: this.rotate(qkv.k, keys, queries, headDim, this.config.xpos ? 'key' : undefined),
      v: this.config.rotaryValue ? this.rotate(qkv.v, keys, queries, headDim, undefined) : qkv.v,
    };
  }

  /**
   * The rotation `queryKey` applies to q and k, as tables core can hand to a fused attention
   * kernel; undefined (run `queryKey`) where that hook does more or refuses the call.
   */
  fusedRotation(qkv: QKV, ctx: AttentionContext): FusedRotation | undefined {
    if (ctx.kind !== 'softmax' || this.config.rotaryValue) return undefined;
    if (this.config.xpos && !ctx.causal) return undefined; // queryKey throws why
    const { queries, keys } = this.coordinates(ctx, qkv.q, qkv.k);
    const headDim = qkv.q.shape[3];
    const role = (r: 'query' | 'key') => (this.config.xpos ? r : undefined);
    const query = this.resolve(queries, keys, headDim, role('query'));
    const key = this.resolve(keys, queries, headDim, role('key'));
    const attributes = rotationAttributes(query);
    const tables = {
      query: cachedAngleTables(queries, query, this.cache),
      key: cachedAngleTables(keys, key, this.cache),
    };
    const rotation = { ...attributes, transpose: false };
    checkRotationShapes(qkv.q, tables.query.cos, tables.query.sin, rotation);
    checkRotationShapes(qkv.k, tables.key.cos, tables.key.sin, rotation);
    return { ...tables, attributes };
  }

  /** RoFormer Eq. 19: Σ (R_m φ(q_m))ᵀ(R_n φ(k_n)) v_n / Σ φ(q_m)ᵀφ(k_n). */
  linearFeatures(features: LinearFeatures, ctx: AttentionContext): LinearFeatures {
    const { queries, keys } = this.coordinates(ctx, features.numeratorQ, features.numeratorK);
    const width = features.numeratorQ.shape[3];
    return {
      ...features,
      numeratorQ: this.rotate(features.numeratorQ, queries, keys, width, undefined),
      numeratorK: this.rotate(features.numeratorK, keys, queries, width, undefined),
    };
  }

  dispose(): void {
    this.cache.dispose();
  }

  /** Number of angle tables held (for tests of the cache). */
  get cachedTables(): number {
    return this.cache.size;
  }

  private coordinates(ctx: AttentionContext, q: tf.Tensor4D, k: tf.Tensor4D) {
    const queries = readCoordinates(ctx.queryPositions, q.shape[0], q.shape[2], 0, OWNER);
    const keys = readCoordinates(ctx.keyPositions, k.shape[0], k.shape[2], 0, OWNER);
    if (queries.kind !== keys.kind)
      throw new Error(
        `${OWNER}: query positions are ${queries.kind} but key positions are ${keys.kind}`,
      );
    return { queries, keys };
  }

  /**
   * Rotates x at `own` coordinates. The frequencies must be the same on both sides of q·k, so a
   * length-dependent scaling (dynamic) sees the longest of both sides, and xPos centres on the keys.
   */
  private rotate<T extends tf.Tensor4D>(
    x: T,
    own: Coordinates,
    other: Coordinates,
    dim: number,
    xposRole: 'query' | 'key' | undefined,
  ): T {
    return rotateAt(x, own, this.resolve(own, other, dim, xposRole), { cache: this.cache });
  }

  private resolve(
    own: Coordinates,
    other: Coordinates,
    dim: number,
    xposRole: 'query' | 'key' | undefined,
  ): ResolvedRope {
    const length = Math.floor(Math.max(maxCoordinate(own), maxCoordinate(other))) + 1;
    const keys = xposRole === 'query' ? other : own;
    const options = this.ropeOptions(
      dim,
      length,
      xposRole && { role: xposRole, center: defaultXposCenter(keys) },
    );
    return resolveRope(dim, own, options, OWNER);
  }

  private ropeOptions(dim: number, sequenceLength: number, xpos: RopeOptions['xpos']): RopeOptions {
    const c = this.config;
    const rotaryDim =
      c.rotaryDim ??
      (c.partialRotaryFactor !== undefined ? Math.floor(dim * c.partialRotaryFactor) : undefined);
    const options: RopeOptions = {
      layout: c.layout,
      base: c.base,
      rotaryDim,
      startIndex: c.rotaryStart,
      scaling: this.scaling(),
      sequenceLength,
    };
    return xpos ? { ...options, xpos: { ...xpos, scaleBase: c.xposScaleBase } } : options;
  }

  private scaling(): RopeScaling | undefined {
    const c = this.config;
    const factor = c.factor!;
    const trained = (field: 'maxPositions' | 'originalMaxPositions'): number => {
      const v = c[field] ?? this.spec?.maxPositions;
      if (v === undefined)
        throw new ConfigError(
          OWNER,
          field,
          v,
          `required with scaling '${c.scaling}' when no model gives its maxPositions`,
        );
      return v;
    };
    switch (c.scaling) {
      case 'none':
        return undefined;
      case 'linear':
      case 'ntk':
        return { type: c.scaling, factor };
      case 'dynamic':
        return { type: 'dynamic', factor, maxPositions: trained('maxPositions') };
      case 'yarn':
        return {
          type: 'yarn',
          factor,
          originalMaxPositions: trained('originalMaxPositions'),
          betaFast: c.betaFast,
          betaSlow: c.betaSlow,
          truncate: c.truncate,
          attentionFactor: c.attentionFactor,
          mscale: c.mscale,
          mscaleAllDim: c.mscaleAllDim,
        };
      case 'llama3':
        return {
          type: 'llama3',
          factor,
          originalMaxPositions: trained('originalMaxPositions'),
          lowFreqFactor: c.lowFreqFactor ?? 1,
          highFreqFactor: c.highFreqFactor ?? 4,
        };
    }
  }
}

export const ropeDefinition: EncodingDefinition<typeof ropeSchema> = {
  name: 'rope',
  description:
    'Rotary position embedding: q and k rotated by position-dependent angles, so q·k depends on m−n (interleaved or half layout, partial, scaling, xPos, axial 2D, linear attention)',
  paper: 'Su et al. 2021, arXiv 2104.09864',
  package: ROPE_PACKAGE,
  schema: ropeSchema,
  variants: [
    {
      name: 'xpos',
      description: 'RoPE with an exponential decay of q·k with distance (xPos, scale base 512)',
      paper: 'Sun et al. 2022, arXiv 2212.10554',
      config: { name: 'rope', xpos: true },
    },
    {
      // HF `_compute_dynamic_ntk_parameters`: the training-free extension many LLaMA users apply;
      // the base grows only for inputs longer than the training length.
      name: 'rope+dynamic',
      description:
        'RoPE with dynamic NTK scaling (factor 2): the base grows for inputs longer than the training length',
      paper: 'Su et al. 2021; dynamic NTK (bloc97, emozilla 2023) as in HF modeling_rope_utils',
      config: { name: 'rope', scaling: 'dynamic', factor: 2 },
    },
  ],
  // xPos grows scores with distance unless attention is causal, and has no linear form.
  supports: (config) => (config.xpos ? ['softmax'] : ['softmax', 'linear']),
  // Axial 2D turns half the rotated features with the row, half with the column; xPos is 1D only.
  positions: (config) => ({
    kinds:
      config.xpos || (config.rotaryDim !== undefined && config.rotaryDim % 4 !== 0)
        ? ['1d']
        : ['1d', '2d'],
    fractional: true,
  }),
  create: (config) => new RopeEncoding(config),
};
