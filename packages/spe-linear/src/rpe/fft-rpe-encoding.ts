/**
 * The `fft-rpe` encoding: kernelized attention with relative positional encoding (Luo et al.,
 * NeurIPS 2021, "Stable, Fast and Accurate", arXiv 2106.12566). Softmax attention with a relative
 * bias b_{j−i} factorises as exp(q·k/√d)·c_{j−i} with c = exp(b); with a kernel φ(q)·φ(k) in place
 * of the exponential,
 *   out_i = Σ_j c_{j−i} φ(q_i)·φ(k_j) v_j / Σ_j c_{j−i} φ(q_i)·φ(k_j),
 * where C_ij = c_{p_j − p_i} is Toeplitz in the positions, so C·[φ(k)⊗v, φ(k)] is one FFT product
 * (`toeplitz.ts`), O(N log N), numerator and normaliser together, through core's
 * `linearAggregate` hook. Causal attention sets c = 0 for keys after the query.
 *
 * b is a learnable table per layer and head: one entry per offset in [−maxDistance, maxDistance]
 * with farther offsets clipped to the ends (`clip`), or T5's logarithmic buckets (`log`). It
 * starts at 0 (c = 1: plain linear attention), as a bias table usually does.
 *
 * Both tables are constant past ±maxDistance, so where positions are consecutive the same
 * weighting is also a band of exact weights plus two constant tails (`banded.ts`), computed with
 * the engine's dense products at a fraction of the FFTs' arithmetic. `algorithm: 'auto'` takes
 * whichever costs fewer operations; 'fft' and 'band' force one (the tests compare them).
 */
import {
  scopedName,
  supportedAttention,
  t5RelativePositionBucket,
  tf,
  type AttentionContext,
  type AttentionKind,
  type ConfigOf,
  type EncodingBuildSpec,
  type EncodingDefinition,
  type LinearFeatures,
  type PositionEncoding,
  type Schema,
  type SequencePositions,
} from '@posenc/core';
import {
  bandCost,
  bandedToeplitzAttention,
  bandPlan,
  type BandPlan,
  consecutiveLayout,
  windowOffsets,
  type BandWeights,
  type ConsecutiveLayout,
} from './banded.js';
import {
  offsetRange,
  toeplitzAttentionSums,
  toeplitzProduct,
  type ToeplitzLayout,
} from './toeplitz.js';

export const fftRpeSchema = {
  buckets: {
    type: 'enum',
    values: ['clip', 'log'],
    default: 'clip',
    doc: "'clip' = one bias per offset up to ±maxDistance, clipped beyond; 'log' = T5's logarithmic buckets",
  },
  maxDistance: { type: 'number', integer: true, min: 1, default: 128 },
  numBuckets: { type: 'number', integer: true, min: 2, default: 32, doc: "buckets of 'log'" },
  algorithm: {
    type: 'enum',
    values: ['auto', 'fft', 'band'],
    default: 'auto',
    doc: "'fft' = Toeplitz product by FFT, O(N log N), any integer positions; 'band' = exact weights within ±maxDistance and constant tails by prefix sums, O(N·maxDistance), consecutive positions; 'auto' = the cheaper that applies",
  },
} as const satisfies Schema;

export type FftRpeConfig = ConfigOf<typeof fftRpeSchema>;

const OWNER = "encoding 'fft-rpe'";

/**
 * What a flop of our JavaScript FFT costs in flops of the engine's products, for `auto`. The FFT
 * runs at about 1.5 GFLOP/s (a 2¹⁴-point transform in 0.75 ms). The band's products, overheads
 * included, run at about 70 GFLOP/s in the 8k forward (6.9 × 272 M flops in 26.5 ms) and about
 * 20 in Pathfinder's small training step, on this 2-core machine (measured). The lower rate
 * decides.
 */
const FFT_FLOP_COST = 20;
export const FFT_RPE_LEAF = 'rpe_bias';

/** Integer ids of each batch row of 1D positions, as the Toeplitz layout needs them. */
function integerRows(p: SequencePositions, what: string): Int32Array[] {
  const [b, n] = p.ids.shape;
  const values = p.ids.dataSync();
  return Array.from({ length: b }, (_, r) =>
    Int32Array.from(values.subarray(r * n, (r + 1) * n), (v, i) => {
      if (!Number.isInteger(v))
        throw new Error(
          `${OWNER}: the Toeplitz structure needs integer positions; ${what} [${r}][${i}] = ${v}`,
        );
      return v;
    }),
  );
}

export class FftRpeEncoding implements PositionEncoding {
  readonly name = 'fft-rpe';
  private spec?: EncodingBuildSpec;
  private tables: tf.Variable[] = [];
  /** The path the last attention call took ('band' or 'fft'), for benchmarks and diagnostics. */
  lastAlgorithm?: 'band' | 'fft';

  constructor(readonly config: FftRpeConfig) {}

  get supports(): readonly AttentionKind[] {
    return supportedAttention(fftRpeDefinition, this.config);
  }

  /** Entries of a head's table. */
  get tableSize(): number {
    const c = this.config;
    return c.buckets === 'clip' ? 2 * c.maxDistance + 1 : c.numBuckets;
  }

  /** The table entry of offset τ = key position − query position. */
  bucketOf(offset: number): number {
    const c = this.config;
    if (c.buckets === 'clip')
      return Math.max(-c.maxDistance, Math.min(c.maxDistance, offset)) + c.maxDistance;
    return t5RelativePositionBucket(offset, {
      bidirectional: true,
      numBuckets: c.numBuckets,
      maxDistance: c.maxDistance,
    });
  }

  /**
   * The distance R past which the table is constant on each side (the band path's premise):
   * maxDistance for both bucketings, checked against the bucket function itself.
   */
  get reach(): number | undefined {
    const r = this.config.maxDistance;
    const far = 2 ** 30;
    const flat =
      this.bucketOf(r + 1) === this.bucketOf(far) && this.bucketOf(-r - 1) === this.bucketOf(-far);
    return flat ? r : undefined;
  }

  /** The band path's weights for `layer`: exp(b) on the window and at the two tails. */
  private bandWeights(layer: number, plan: BandPlan, causal: boolean): BandWeights {
    const { ids, visible } = this.windowBuckets(plan);
    const h = this.spec!.heads;
    const table = this.tables[layer]!;
    let window = tf.exp(tf.gather(table, tf.tensor1d(ids, 'int32'), 1));
    if (causal) window = tf.mul(window, tf.tensor1d(visible));
    const column = (offset: number) =>
      tf.exp(tf.gather(table, tf.tensor1d([this.bucketOf(offset)], 'int32'), 1)).reshape([h]);
    return {
      window: window.reshape([h, plan.block, plan.width]) as tf.Tensor3D,
      before: column(-plan.reach - 1) as tf.Tensor1D,
      after: (causal ? tf.zeros([h]) : column(plan.reach + 1)) as tf.Tensor1D,
    };
  }

  /** Per block length and side: the window's bucket ids and causal mask, for every layer. */
  private readonly windowCache = new Map<string, { ids: Int32Array; visible: Float32Array }>();

  private windowBuckets(plan: BandPlan) {
    const key = `${plan.block},${plan.side}`;
    let entry = this.windowCache.get(key);
    if (!entry) {
      const offsets = windowOffsets(plan);
      entry = {
        ids: Int32Array.from(offsets, (o) => this.bucketOf(o)),
        visible: Float32Array.from(offsets, (o) => (o <= 0 ? 1 : 0)),
      };
      this.windowCache.set(key, entry);
    }
    return entry;
  }

  /**
   * The band's plan, or 'fft', for this call. 'auto' takes the band when it applies and is estimated
   * faster: the FFT path does 5·M·log₂M flops per transform of (m·Dv + m)/2 channel pairs,
   * forward and back, at M = 2^⌈log₂(Nq + Nk − 1)⌉, in single-threaded JavaScript, where the
   * band's products run on the engine. A flop of the FFT is counted as FFT_FLOP_COST of the
   * band's: by flops alone, Pathfinder's rows (N = 256, 4 heads of 16) went to the FFT, whose
   * training step took 1,033 ms against the band's 57 ms (measured).
   */
  private algorithmFor(
    band: ConsecutiveLayout | string,
    reach: number | undefined,
    dims: { m: number; md: number; dv: number; shared: boolean },
  ): BandPlan | 'fft' {
    const asked = this.config.algorithm;
    if (asked === 'fft') return 'fft';
    const why =
      reach === undefined
        ? `the table is not constant past ±maxDistance = ${this.config.maxDistance}`
        : typeof band === 'string'
          ? band
          : undefined;
    if (asked === 'band' && why)
      throw new Error(`${OWNER}: algorithm 'band' does not apply: ${why}; use 'fft' or 'auto'`);
    if (why) return 'fft';
    const layout = band as ConsecutiveLayout;
    const plan = bandPlan(layout, reach!);
    if (asked === 'band') return plan;
    const size = 2 ** Math.ceil(Math.log2(Math.max(2, layout.queries + layout.keys - 1)));
    const fftFlops = ((dims.m * dims.dv + dims.md) / 2) * 2 * 5 * size * Math.log2(size);
    const bandFlops = 2 * bandCost(plan, dims.m, dims.dv, !dims.shared);
    return bandFlops < FFT_FLOP_COST * fftFlops ? plan : 'fft';
  }

  build(spec: EncodingBuildSpec): void {
    if (this.spec) throw new Error(`${OWNER}: build was called twice`);
    this.spec = spec;
    this.tables = Array.from({ length: spec.layers }, (_, l) =>
      tf.tidy(() =>
        tf.variable(
          tf.zeros([spec.heads, this.tableSize]),
          true,
          scopedName(spec.scopes.attention(l), FFT_RPE_LEAF),
        ),
      ),
    );
  }

  parameters(): Record<string, tf.Variable> {
    const spec = this.spec;
    const out: Record<string, tf.Variable> = {};
    this.tables.forEach((t, l) => (out[scopedName(spec!.scopes.attention(l), FFT_RPE_LEAF)] = t));
    return out;
  }

  /** c = exp(b) over the offsets `min … max` `[H, T]`, zero after the query when causal. */
  coefficients(layer: number, min: number, max: number, causal: boolean): tf.Tensor2D {
    const offsets = Array.from({ length: max - min + 1 }, (_, i) => min + i);
    return tf.tidy(() => {
      const index = tf.tensor1d(
        Int32Array.from(offsets, (o) => this.bucketOf(o)),
        'int32',
      );
      const c = tf.exp(tf.gather(this.tables[layer]!, index, 1));
      if (!causal) return c;
      const visible = tf.tensor1d(Float32Array.from(offsets, (o) => (o <= 0 ? 1 : 0)));
      return tf.mul(c, visible);
    }) as tf.Tensor2D;
  }

  linearAggregate(
    features: LinearFeatures,
    v: tf.Tensor4D,
    ctx: AttentionContext,
  ): { numerator: tf.Tensor4D; denominator: tf.Tensor4D } {
    const spec = this.spec;
    if (!spec) throw new Error(`${OWNER}: build(spec) must be called before attention runs`);
    if (ctx.queryPositions.kind !== '1d' || ctx.keyPositions.kind !== '1d')
      throw new Error(`${OWNER}: needs 1D sequence positions ([B,N] ids), got a 2D grid`);
    const [b, h, nq, m] = features.numeratorQ.shape;
    const nk = features.numeratorK.shape[2];
    const dv = v.shape[3];
    const queries = integerRows(ctx.queryPositions, 'query position');
    const keys = integerRows(ctx.keyPositions, 'key position');
    const broadcast = (rows: Int32Array[]) =>
      rows.length === 1 && b > 1 ? Array<Int32Array>(b).fill(rows[0]!) : rows;
    const layout0 = { inputPositions: broadcast(keys), outputPositions: broadcast(queries) };
    if (ctx.causal) checkCausalPositions(layout0.inputPositions, layout0.outputPositions);
    const band = consecutiveLayout(layout0.inputPositions, layout0.outputPositions);
    const reach = this.reach;
    const shared =
      features.denominatorQ === features.numeratorQ &&
      features.denominatorK === features.numeratorK;
    const md = features.denominatorQ.shape[3];
    const plan = this.algorithmFor(band, reach, { m, md, dv, shared });
    this.lastAlgorithm = plan === 'fft' ? 'fft' : 'band';
    if (plan !== 'fft') {
      return tf.tidy(
        () =>
          bandedToeplitzAttention(
            features,
            v,
            plan,
            this.bandWeights(ctx.layer, plan, ctx.causal),
            ctx.causal,
          ) as unknown as tf.TensorContainerObject,
      ) as unknown as { numerator: tf.Tensor4D; denominator: tf.Tensor4D };
    }
    const range = offsetRange(layout0.inputPositions, layout0.outputPositions);
    const layout: ToeplitzLayout = { ...layout0, offsetMin: range.min };
    return tf.tidy(() => {
      const c = this.coefficients(ctx.layer, range.min, range.max, ctx.causal);
      // Without a gradient to record (evaluation), the fused forward never stores the channels.
      if (!tf.engine().isTapeOn())
        return toeplitzAttentionSums(
          c,
          { ...features, v },
          layout,
        ) as unknown as tf.TensorContainerObject;
      // Channels: φ(k)⊗v (m·dv) for the numerator and φ(k) (m) for the normaliser, in one product.
      const outer = tf.mul(
        features.numeratorK.reshape([b, h, nk, m, 1]),
        v.reshape([b, h, nk, 1, dv]),
      );
      const channels = tf.concat(
        [outer.reshape([b, h, nk, m * dv]), features.denominatorK],
        3,
      ) as tf.Tensor4D;
      const mixed = toeplitzProduct(c, channels, layout); // [B, H, Nq, m·dv + m]
      const [numeratorSums, denominatorSums] = tf.split(mixed, [m * dv, m], 3);
      const numerator = tf
        .matMul(
          features.numeratorQ.reshape([b, h, nq, 1, m]),
          numeratorSums!.reshape([b, h, nq, m, dv]),
        )
        .reshape([b, h, nq, dv]);
      const denominator = tf.sum(tf.mul(features.denominatorQ, denominatorSums!), 3, true);
      return { numerator, denominator } as unknown as tf.TensorContainerObject;
    }) as unknown as { numerator: tf.Tensor4D; denominator: tf.Tensor4D };
  }

  dispose(): void {
    for (const t of this.tables) t.dispose();
    this.tables = [];
  }
}

/**
 * Causal attention in core is by index: query i sees keys up to i + (Nk − Nq). The Toeplitz form
 * masks by position (keys at p ≤ the query's), which is the same when positions increase along
 * each row and each query sits at the position of its aligned key; anything else is refused.
 */
function checkCausalPositions(keys: readonly Int32Array[], queries: readonly Int32Array[]): void {
  keys.forEach((k, r) => {
    const q = queries[r]!;
    const offset = k.length - q.length;
    for (let j = 1; j < k.length; j++)
      if (k[j]! <= k[j - 1]!)
        throw new Error(
          `${OWNER}: causal attention needs increasing key positions; row ${r} has ${k[j - 1]} then ${k[j]}`,
        );
    q.forEach((p, i) => {
      if (p !== k[i + offset])
        throw new Error(
          `${OWNER}: causal attention needs each query at its aligned key's position; row ${r} query ${i} is at ${p}, key ${i + offset} at ${k[i + offset]}`,
        );
    });
  });
}

export const fftRpeDefinition: EncodingDefinition<typeof fftRpeSchema> = {
  name: 'fft-rpe',
  description:
    'Relative position bias for kernelized (linear) attention: c = exp(b_{j−i}) weights φ(q)·φ(k) as a Toeplitz matrix, applied by FFT in O(N log N) or, for consecutive positions, as a band plus constant tails in O(N·maxDistance)',
  paper: 'Luo et al. 2021, NeurIPS, arXiv 2106.12566',
  package: '@posenc/spe-linear',
  schema: fftRpeSchema,
  supports: ['linear'],
  positions: { kinds: ['1d'], fractional: false },
  create: (config) => new FftRpeEncoding(config),
};
