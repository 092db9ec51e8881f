/**
 * The `spe` encoding: stochastic positional encoding (Liutkus et al., ICML 2021) in core's linear
 * attention through the `linearQueryKey` hook — after the q/k projections, before the feature map;
 * q and k leave it with R features (the realisations) instead of D, and values are untouched.
 *
 * As the authors ran it (aliutkus/spe issue #6, the music models' `share_pe`): with `shared`, one
 * code generator serves every layer and its code is computed once per forward (at layer 0, reused
 * by the later layers of the same call), while each layer keeps its own gate. Without it, every
 * layer has its own generator (the LRA sineSPE runs) and computes its own code.
 *
 * Noise comes from a `SpeNoiseSource`: by default counter-based draws from (seed, draw), where
 * the caller picks the draw (`setDraw(step)` in training, one fixed draw for evaluation, or a new
 * one per batch as the official code's stochastic inference); a golden test replays stored draws.
 */
import {
  ConfigError,
  normalFrom,
  mulberry32,
  require1D,
  scopedName,
  seedFor,
  supportedAttention,
  tf,
  type AttentionContext,
  type AttentionKind,
  type ConfigOf,
  type EncodingBuildSpec,
  type EncodingDefinition,
  type GridPositions,
  type PositionEncoding,
  type Positions,
  type Schema,
} from '@posenc/core';
import { SeededSpeNoise, type SpeNoiseSource } from '../noise/spe-noise.js';
import {
  convChunkLength,
  convCodes2d,
  convNoise1d,
  filterConv1dByChunks,
  initialConvFilter,
  type ConvSide,
  type ConvSpeParameters,
} from './conv-spe.js';
import {
  filterWithCode,
  filterWithSineChunks,
  gateEpsilon,
  sineMixer,
  sineMixerTensors,
  type SineMixer,
  type Gate,
} from './filter.js';
import {
  initialSineParameters,
  sineChunkLength,
  sineChunks,
  sineChunkTensors,
  sineWeights,
  type SineChunks,
  type SineSpeParameters,
} from './sine-spe.js';

export const SPE_PACKAGE = '@posenc/spe-linear';

export const speSchema = {
  kind: {
    type: 'enum',
    values: ['sine', 'conv', 'conv2d'],
    default: 'sine',
    doc: "'sine' = sineSPE (1D, any positions); 'conv' = convSPE over a sequence; 'conv2d' = convSPE over a 2D grid",
  },
  realizations: {
    type: 'number',
    integer: true,
    min: 1,
    default: 64,
    doc: 'R: the width of q and k after SPE (LRA: 64, CIFAR-10: 32)',
  },
  sines: { type: 'number', integer: true, min: 1, default: 10, doc: 'K of sineSPE (LRA: 10)' },
  kernelSize: {
    type: 'number',
    integer: true,
    min: 1,
    default: 128,
    doc: 'L: taps of convSPE filters (L×L on a grid; LRA: 128)',
  },
  gated: {
    type: 'boolean',
    default: true,
    doc: 'learn per (head, dim) how much of the score is positional: √(1−g)·code + √g·ε',
  },
  shared: {
    type: 'boolean',
    default: true,
    doc: 'one code generator for all layers, its code computed once per forward (gates stay per layer)',
  },
  seed: { type: 'number', integer: true, min: 0, default: 0, doc: 'seed of the noise draws' },
} as const satisfies Schema;

export type SpeConfig = ConfigOf<typeof speSchema>;

const OWNER = "encoding 'spe'";

/** What a trainer or evaluator uses to pick SPE's (or FAVOR+'s) draw of noise. */
export interface Redrawable {
  readonly draw: number;
  setDraw(index: number): void;
}

/** Position ids `[P, N]`: one row when every batch row has the same ids (the usual case). */
function distinctRows(ids: tf.Tensor2D): { rows: tf.Tensor2D; values: Float32Array; n: number } {
  const [b, n] = ids.shape;
  const values = ids.dataSync() as Float32Array;
  let same = true;
  for (let r = 1; r < b && same; r++)
    for (let i = 0; i < n; i++)
      if (values[r * n + i] !== values[i]) {
        same = false;
        break;
      }
  return same && b > 1
    ? { rows: ids.slice([0, 0], [1, n]), values: values.subarray(0, n), n }
    : { rows: ids, values, n };
}

function assertIntegers(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++)
    if (!Number.isInteger(values[i]))
      throw new Error(
        `${OWNER}: convSPE reads its noise at integer positions; ${what} holds ${values[i]} (sineSPE evaluates any position)`,
      );
}

/** sineSPE: positions in chunks and the weights as `sineMixer` (the code is never formed, see `filter.ts`). */
interface SineCode {
  readonly kind: 'sine';
  readonly q: SineChunks;
  readonly k: SineChunks;
  readonly mixer: SineMixer;
  readonly offsets: tf.Tensor3D;
}

/** 2D convSPE: the codes `[P, N, H, D, R]` per side (a grid of an image is small). */
interface ConvCode {
  readonly kind: 'conv';
  readonly q: tf.Tensor5D;
  readonly k: tf.Tensor5D;
}

/** Integer 1D positions of one side, as rows `[P, N]` of numbers. */
interface PositionRows {
  readonly values: Float32Array;
  readonly rows: number;
}

/**
 * 1D convSPE: the positions and the filters; the code is made chunk by chunk of positions while
 * filtering (`filterConv1dByChunks`), never for the whole sequence.
 */
interface Conv1dPlan {
  readonly kind: 'conv1d';
  readonly queries: PositionRows;
  /** The same object as `queries` when keys sit at the query positions (the noise is shared). */
  readonly keys: PositionRows;
  readonly filterQ: tf.Tensor;
  readonly filterK: tf.Tensor;
}

type Code = SineCode | ConvCode | Conv1dPlan;

interface CachedCode {
  readonly code: Code;
  readonly queryPositions: Positions;
  readonly keyPositions: Positions;
  readonly noiseVersion: number;
  /** Batch rows of the call: sineSPE's chunk length depends on it. */
  readonly batch: number;
  layer: number;
}

export class SpeEncoding implements PositionEncoding, Redrawable {
  readonly name = 'spe';
  private spec?: EncodingBuildSpec;
  /** Code generator parameters: one set (shared) or one per layer. */
  private generators: Record<string, tf.Variable>[] = [];
  private gates: tf.Variable[] = [];
  private seeded: SeededSpeNoise;
  private source: SpeNoiseSource;
  private noiseVersion = 0;
  private cached?: CachedCode;
  /** Draws of the seeded noise made for the current draw index, by what they are (see drawn). */
  private drawnNoise = new Map<string, tf.Tensor>();

  constructor(readonly config: SpeConfig) {
    this.seeded = new SeededSpeNoise(config.seed);
    this.source = this.seeded;
  }

  get supports(): readonly AttentionKind[] {
    return supportedAttention(speDefinition, this.config);
  }

  get draw(): number {
    return this.seeded.draw;
  }

  /** Uses draw `index` of the seeded noise from the next call on. */
  setDraw(index: number): void {
    if (this.source !== this.seeded)
      throw new Error(`${OWNER}: setDraw has no effect while a replayed noise source is in use`);
    if (index === this.seeded.draw) return;
    this.seeded.setDraw(index);
    this.invalidate();
  }

  /** Replaces the noise (a golden case's stored draws); `undefined` returns to the seeded draws. */
  useNoise(source: SpeNoiseSource | undefined): void {
    this.source = source ?? this.seeded;
    this.invalidate();
  }

  build(spec: EncodingBuildSpec): void {
    if (this.spec) throw new Error(`${OWNER}: build was called twice`);
    this.spec = spec;
    const { heads, headDim, layers, scopes, seed } = spec;
    const c = this.config;
    const scopesOfGenerators = c.shared
      ? [scopes.sharedAttention]
      : Array.from({ length: layers }, (_, l) => scopes.attention(l));
    const variable = (name: string, values: Float32Array, shape: number[]) =>
      tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), true, name));
    const random = (name: string) => mulberry32(seedFor(seed, name));
    for (const scope of scopesOfGenerators) {
      const generator: Record<string, tf.Variable> = {};
      if (c.kind === 'sine') {
        const names = ['freqs', 'offsets', 'gains'].map((leaf) => scopedName(scope, `spe_${leaf}`));
        const init = initialSineParameters(heads, headDim, c.sines, normalFrom(random(names[0]!)));
        const shape = [heads, headDim, c.sines];
        generator[names[0]!] = variable(names[0]!, init.freqs, shape);
        generator[names[1]!] = variable(names[1]!, init.offsets, shape);
        generator[names[2]!] = variable(names[2]!, init.gains, shape);
      } else {
        const ndim = c.kind === 'conv2d' ? 2 : 1;
        const shape = [heads * headDim, ...Array<number>(ndim).fill(c.kernelSize)];
        for (const side of ['q', 'k']) {
          const name = scopedName(scope, `spe_filter_${side}`);
          const init = initialConvFilter(heads * headDim, c.kernelSize, ndim, random(name));
          generator[name] = variable(name, init, shape);
        }
      }
      this.generators.push(generator);
    }
    if (c.gated)
      this.gates = Array.from({ length: layers }, (_, l) => {
        const name = scopedName(scopes.attention(l), 'spe_gate');
        const init = Float32Array.from({ length: heads * headDim }, normalFrom(random(name)));
        return variable(name, init, [heads, headDim]);
      });
  }

  parameters(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    for (const g of this.generators) Object.assign(out, g);
    const scopes = this.spec?.scopes;
    this.gates.forEach((gate, l) => (out[scopedName(scopes!.attention(l), 'spe_gate')] = gate));
    return out;
  }

  linearQueryKey(
    q: tf.Tensor4D,
    k: tf.Tensor4D,
    ctx: AttentionContext,
  ): { q: tf.Tensor4D; k: tf.Tensor4D } {
    const spec = this.spec;
    if (!spec) throw new Error(`${OWNER}: build(spec) must be called before attention runs`);
    if (q.shape[1] !== spec.heads || q.shape[3] !== spec.headDim || k.shape[3] !== spec.headDim)
      throw new Error(
        `${OWNER}: built for ${spec.heads} heads of ${spec.headDim} features, got q [${q.shape}] and k [${k.shape}]`,
      );
    if (ctx.layer < 0 || ctx.layer >= spec.layers)
      throw new Error(`${OWNER}: layer ${ctx.layer} is outside the ${spec.layers} layers built`);
    const code = this.codeFor(ctx, q.shape[0]);
    const gate = this.gateOf(ctx.layer);
    try {
      return tf.tidy(() => {
        if (code.kind === 'sine')
          return {
            q: filterWithSineChunks(q, code.q, code.mixer, code.offsets, gate),
            k: filterWithSineChunks(k, code.k, code.mixer, undefined, gate),
          };
        if (code.kind === 'conv')
          return { q: filterWithCode(q, code.q, gate), k: filterWithCode(k, code.k, gate) };
        const sides = [
          { x: q, filter: code.filterQ },
          { x: k, filter: code.filterK },
        ];
        const [outQ, outK] =
          code.keys === code.queries
            ? this.filterConv1d(sides, code.queries, gate)
            : [
                ...this.filterConv1d([sides[0]!], code.queries, gate),
                ...this.filterConv1d([sides[1]!], code.keys, gate),
              ];
        return { q: outQ!, k: outK! };
      });
    } finally {
      if (gate) gate.epsilon.dispose();
      if (!this.config.shared) disposeCode(code);
    }
  }

  private filterConv1d(
    sides: readonly ConvSide[],
    positions: PositionRows,
    gate: Gate | undefined,
  ): tf.Tensor4D[] {
    const { heads, headDim } = this.spec!;
    const { realizations, kernelSize } = this.config;
    const chunk = convChunkLength(positions.rows, heads, headDim, realizations, kernelSize);
    const noise = (lo: number, hi: number) =>
      convNoise1d(this.source, realizations, heads * headDim, kernelSize, lo, hi);
    return filterConv1dByChunks(sides, positions.values, positions.rows, noise, chunk, (x, code) =>
      filterWithCode(x, code, gate),
    );
  }

  dispose(): void {
    this.invalidate();
    for (const g of this.generators) for (const v of Object.values(g)) v.dispose();
    for (const v of this.gates) v.dispose();
    this.generators = [];
    this.gates = [];
  }

  private invalidate(): void {
    this.noiseVersion++;
    if (this.cached) disposeCode(this.cached.code);
    this.cached = undefined;
    for (const t of this.drawnNoise.values()) t.dispose();
    this.drawnNoise.clear();
  }

  /**
   * A draw of the noise that the caller owns (and disposes). The seeded source is a pure
   * function of (seed, draw), so its draws are made once per draw index and kept: a new forward
   * with the same draw (every forward of an evaluation, every step between two setDraw calls)
   * reads them again instead of hashing sineSPE's H·D·2K·R normals anew (163,840 at H = 2,
   * D = 64, K = 10, R = 64: about 10 ms per forward in JavaScript). A replayed source may hand out
   * its stored draws in turn, so it is asked every time.
   */
  private drawn<T extends tf.Tensor>(what: string, make: () => T): T {
    if (this.source !== this.seeded) return make();
    let kept = this.drawnNoise.get(what) as T | undefined;
    if (!kept) {
      kept = tf.keep(make());
      this.drawnNoise.set(what, kept);
    }
    return tf.clone(kept);
  }

  private gateOf(layer: number): Gate | undefined {
    if (!this.config.gated) return undefined;
    const { heads, headDim } = this.spec!;
    const raw = this.drawn(`gating:${layer}`, () =>
      this.source.gating(layer, heads, headDim, this.config.realizations),
    );
    const epsilon = tf.tidy(() => gateEpsilon(raw));
    raw.dispose();
    return { gate: this.gates[layer] as unknown as tf.Tensor2D, epsilon };
  }

  /**
   * The code of this call. Shared generators: a call at layer 0 (a new forward) or with other
   * positions or noise computes it; later layers of the same forward reuse it.
   */
  private codeFor(ctx: AttentionContext, batch: number): Code {
    if (!this.config.shared) return this.computeCode(ctx, this.generators[ctx.layer]!, batch);
    const c = this.cached;
    if (
      c &&
      ctx.layer > c.layer &&
      c.queryPositions === ctx.queryPositions &&
      c.keyPositions === ctx.keyPositions &&
      c.noiseVersion === this.noiseVersion &&
      c.batch === batch
    ) {
      c.layer = ctx.layer;
      return c.code;
    }
    if (c) disposeCode(c.code);
    const code = this.computeCode(ctx, this.generators[0]!, batch);
    for (const t of tensorsOf(code)) tf.keep(t);
    this.cached = {
      code,
      queryPositions: ctx.queryPositions,
      keyPositions: ctx.keyPositions,
      noiseVersion: this.noiseVersion,
      batch,
      layer: ctx.layer,
    };
    return code;
  }

  private computeCode(
    ctx: AttentionContext,
    generator: Record<string, tf.Variable>,
    batch: number,
  ): Code {
    const leaf = (suffix: string) =>
      Object.entries(generator).find(([name]) => name.endsWith(suffix))![1] as tf.Tensor;
    const { heads, headDim } = this.spec!;
    const { realizations, sines } = this.config;
    if (this.config.kind === 'sine') {
      const queries = require1D(ctx.queryPositions, OWNER);
      const keys = require1D(ctx.keyPositions, OWNER);
      const params: SineSpeParameters = {
        freqs: leaf('spe_freqs') as tf.Tensor3D,
        offsets: leaf('spe_offsets') as tf.Tensor3D,
        gains: leaf('spe_gains') as tf.Tensor3D,
      };
      const z = this.drawn('sine', () => this.source.sine(heads, headDim, 2 * sines, realizations));
      const chunk = sineChunkLength(heads, batch, sines, headDim);
      try {
        return tf.tidy(() => {
          const qRows = distinctRows(queries.ids);
          const q = sineChunks(params, qRows.rows, qRows.values, chunk);
          let k = q;
          if (keys !== queries) {
            const kRows = distinctRows(keys.ids);
            k = sineChunks(params, kRows.rows, kRows.values, chunk);
          }
          const code: SineCode = {
            kind: 'sine',
            q,
            k,
            mixer: sineMixer(sineWeights(params, z)),
            offsets: tf.clone(params.offsets) as tf.Tensor3D,
          };
          return code as unknown as tf.TensorContainerObject;
        }) as unknown as Code;
      } finally {
        z.dispose();
      }
    }
    const params: ConvSpeParameters = {
      filterQ: leaf('spe_filter_q'),
      filterK: leaf('spe_filter_k'),
    };
    return this.config.kind === 'conv'
      ? this.conv1dCode(ctx, params)
      : this.conv2dCode(ctx, params);
  }

  private conv1dCode(ctx: AttentionContext, params: ConvSpeParameters): Code {
    if (ctx.queryPositions.kind !== '1d' || ctx.keyPositions.kind !== '1d')
      throw new Error(
        `${OWNER}: kind 'conv' needs 1D sequence positions; use kind 'conv2d' on a grid`,
      );
    const rowsOf = (ids: tf.Tensor2D, what: string): PositionRows => {
      const { values, rows } = distinctRows(ids);
      if (rows !== ids) rows.dispose();
      assertIntegers(values, what);
      return { values, rows: rows.shape[0] };
    };
    const queries = rowsOf(ctx.queryPositions.ids, 'the query positions');
    const keys =
      ctx.keyPositions === ctx.queryPositions
        ? queries
        : rowsOf(ctx.keyPositions.ids, 'the key positions');
    return {
      kind: 'conv1d',
      queries,
      keys,
      filterQ: tf.clone(params.filterQ),
      filterK: tf.clone(params.filterK),
    };
  }

  /** Grid positions: the code at each (row, col); skip tokens (a class token) get a zero code. */
  private conv2dCode(ctx: AttentionContext, params: ConvSpeParameters): Code {
    const grid = (p: Positions): GridPositions => {
      if (p.kind !== '2d')
        throw new Error(
          `${OWNER}: kind 'conv2d' needs 2D grid positions; use kind 'conv' on a sequence`,
        );
      return p;
    };
    const qGrid = grid(ctx.queryPositions);
    const kGrid = grid(ctx.keyPositions);
    const { heads, headDim } = this.spec!;
    const { realizations, kernelSize } = this.config;
    const read = (g: GridPositions) => {
      const rows = g.rows.dataSync() as Float32Array;
      const cols = g.cols.dataSync() as Float32Array;
      assertIntegers(rows, 'the grid rows');
      assertIntegers(cols, 'the grid columns');
      return { g, rows, cols, batch: g.rows.shape[0], cells: g.rows.shape[1] };
    };
    const sides = [read(qGrid), read(kGrid)];
    const range = (key: 'rows' | 'cols') => {
      let lo = Infinity;
      let hi = -Infinity;
      for (const s of sides) for (const v of s[key]) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
      return { lo, span: hi - lo + 1 };
    };
    const r = range('rows');
    const c = range('cols');
    const noise = this.source.conv2d(
      realizations,
      heads * headDim,
      r.lo + kernelSize,
      r.span + kernelSize - 1,
      c.lo + kernelSize,
      c.span + kernelSize - 1,
    );
    try {
      return tf.tidy(() => {
        const codes = convCodes2d(params, noise, heads, headDim); // [rows, cols, H, D, R]
        const at = (side: (typeof sides)[number], window: tf.Tensor) => {
          const { batch, cells, rows, cols, g } = side;
          const flat = window.reshape([r.span * c.span, heads, headDim, realizations]);
          const index = Int32Array.from(
            { length: batch * cells },
            (_, i) => (rows[i]! - r.lo) * c.span + (cols[i]! - c.lo),
          );
          let code = tf
            .gather(flat, tf.tensor1d(index, 'int32'))
            .reshape([batch, cells, heads, headDim, realizations]);
          if (g.skip > 0)
            code = tf.concat([tf.zeros([batch, g.skip, heads, headDim, realizations]), code], 1);
          return code as tf.Tensor5D;
        };
        const code: ConvCode = {
          kind: 'conv',
          q: at(sides[0]!, codes.q),
          k: at(sides[1]!, codes.k),
        };
        return code as unknown as tf.TensorContainerObject;
      }) as unknown as Code;
    } finally {
      noise.dispose();
    }
  }
}

function tensorsOf(code: Code): tf.Tensor[] {
  if (code.kind === 'conv') return [code.q, code.k];
  if (code.kind === 'conv1d') return [code.filterQ, code.filterK];
  const sides = code.k === code.q ? [code.q] : [code.q, code.k];
  return [...sides.flatMap(sineChunkTensors), ...sineMixerTensors(code.mixer), code.offsets];
}

function disposeCode(code: Code): void {
  tf.dispose(tensorsOf(code));
}

function checkConfig(config: SpeConfig): void {
  if (config.kind === 'conv2d' && config.kernelSize > 64)
    throw new ConfigError(
      OWNER,
      'kernelSize',
      config.kernelSize,
      "kind 'conv2d' filters are kernelSize² taps per channel; at most 64 (an image of 32×32 needs far fewer)",
    );
}

export const speDefinition: EncodingDefinition<typeof speSchema> = {
  name: 'spe',
  description:
    'Stochastic positional encoding: q and k filtered by random codes whose cross-covariance is a learnable relative kernel, so linear attention gets relative positions (sine or convolutional, gated)',
  paper: 'Liutkus et al. 2021, ICML, arXiv 2105.08399',
  package: SPE_PACKAGE,
  schema: speSchema,
  variants: [
    {
      name: 'spe-sine-ungated',
      description: 'sineSPE without the gate: every score is positional',
      paper: 'Liutkus et al. 2021, arXiv 2105.08399',
      config: { name: 'spe', kind: 'sine', gated: false },
    },
    {
      name: 'spe-conv',
      description:
        'convSPE (learnable FIR filters of 128 taps on white noise), gated, shared by the layers',
      paper: 'Liutkus et al. 2021, arXiv 2105.08399',
      config: { name: 'spe', kind: 'conv' },
    },
  ],
  supports: ['linear'],
  positions: (config) =>
    config.kind === 'sine'
      ? { kinds: ['1d'], fractional: true }
      : { kinds: [config.kind === 'conv2d' ? '2d' : '1d'], fractional: false },
  create: (config) => {
    checkConfig(config);
    return new SpeEncoding(config);
  },
};
