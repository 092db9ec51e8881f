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
} as const satisfies Schema;

export type FftRpeConfig = ConfigOf<typeof fftRpeSchema>;

const OWNER = "encoding 'fft-rpe'";
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
    'Relative position bias for kernelized (linear) attention: c = exp(b_{j−i}) weights φ(q)·φ(k) as a Toeplitz matrix, applied by FFT in O(N log N)',
  paper: 'Luo et al. 2021, NeurIPS, arXiv 2106.12566',
  package: '@posenc/spe-linear',
  schema: fftRpeSchema,
  supports: ['linear'],
  positions: { kinds: ['1d'], fractional: false },
  create: (config) => new FftRpeEncoding(config),
};
