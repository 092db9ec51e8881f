import { describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import type { AttentionContext } from '../encoding/position-encoding.js';
import {
  attentionContext,
  disposeAttentionContext,
  onCpuWithoutLeaks,
  testBuildSpec,
} from '../testing/index.js';
import {
  t5BucketsFromTable,
  t5BucketTable,
  T5RelativeBias,
  t5RelativePositionBucket,
  type T5BucketOptions,
} from './t5-bias.js';

onCpuWithoutLeaks();

/**
 * `_relative_position_bucket` of HF transformers' modeling_t5.py, line by line, with torch's
 * float32 tensor arithmetic done in a Float32Array.
 */
function hfRelativePositionBucket(
  relativePosition: number,
  bidirectional: boolean,
  numBuckets: number,
  maxDistance: number,
): number {
  let relativeBuckets = 0;
  if (bidirectional) {
    numBuckets = Math.floor(numBuckets / 2);
    relativeBuckets += (relativePosition > 0 ? 1 : 0) * numBuckets;
    relativePosition = Math.abs(relativePosition);
  } else {
    relativePosition = -Math.min(relativePosition, 0);
  }
  const maxExact = Math.floor(numBuckets / 2);
  const isSmall = relativePosition < maxExact;
  const f32 = new Float32Array(1);
  f32[0] = relativePosition / maxExact; // relative_position.float() / max_exact
  f32[0] = Math.log(f32[0]); // torch.log
  f32[0] = f32[0] / Math.fround(Math.log(maxDistance / maxExact)); // / math.log(max_distance / max_exact)
  f32[0] = f32[0] * (numBuckets - maxExact); // * (num_buckets - max_exact)
  let relativePositionIfLarge = maxExact + Math.trunc(f32[0]); // .to(torch.long)
  relativePositionIfLarge = Math.min(relativePositionIfLarge, numBuckets - 1);
  relativeBuckets += isSmall ? relativePosition : relativePositionIfLarge;
  return relativeBuckets;
}

/** The shared table's name in core's models (a checkpoint key). */
const SHARED_TABLE = 'attn.relative_attention_bias';

const distances = Array.from({ length: 601 }, (_, i) => i - 300);
const bucketSettings: T5BucketOptions[] = [true, false].flatMap((bidirectional) => [
  { bidirectional, numBuckets: 32, maxDistance: 128 },
  { bidirectional, numBuckets: 64, maxDistance: 256 },
  { bidirectional, numBuckets: 10, maxDistance: 20 },
]);

const spec = testBuildSpec({ layers: 3, heads: 4, headDim: 8, maxPositions: 64, seed: 5 });

function context(queries: number[][], keys: number[][], causal: boolean, layer = 0) {
  return attentionContext({ queries, keys, causal, layer, heads: spec.heads });
}

/** The encoding's bias for one context, as nested arrays; frees what it creates. */
function biasOf(t5: T5RelativeBias, ctx: AttentionContext): number[][][][] {
  const q = tf.zeros([1, spec.heads, 1, spec.headDim]) as tf.Tensor4D;
  try {
    return tf.tidy(() => t5.scoreBias(q, q, ctx).arraySync());
  } finally {
    q.dispose();
    disposeAttentionContext(ctx);
  }
}

describe('T5 buckets', () => {
  for (const options of bucketSettings) {
    it(`equal HF's _relative_position_bucket for distances −300…300: ${JSON.stringify(options)}`, () => {
      const { bidirectional, numBuckets, maxDistance } = options;
      const expected = distances.map((d) =>
        hfRelativePositionBucket(d, bidirectional, numBuckets, maxDistance),
      );
      expect(distances.map((d) => t5RelativePositionBucket(d, options))).toEqual(expected);
      const fromTable = tf.tidy(() => {
        const table = tf.tensor1d(t5BucketTable(options), 'int32');
        return t5BucketsFromTable(tf.tensor1d(distances), table, maxDistance).arraySync();
      });
      expect(fromTable).toEqual(expected);
      expect(Math.max(...expected)).toBeLessThan(numBuckets);
    });
  }

  it('rounds fractional relative positions to the nearest integer before bucketing', () => {
    const options = { bidirectional: true, numBuckets: 32, maxDistance: 128 };
    const buckets = tf.tidy(() =>
      t5BucketsFromTable(
        tf.tensor1d([2.4, 2.6, -9.7, 40.2]),
        tf.tensor1d(t5BucketTable(options), 'int32'),
        128,
      ).arraySync(),
    );
    expect(buckets).toEqual([2, 3, -10, 40].map((d) => t5RelativePositionBucket(d, options)));
  });
});

describe('T5RelativeBias', () => {
  it('causal: earlier keys get distance buckets, later keys share the bucket of distance 0', () => {
    const t5 = new T5RelativeBias({ numBuckets: 32, maxDistance: 128, perLayer: false });
    t5.build(spec);
    const table = t5.parameters()[SHARED_TABLE]!.arraySync() as number[][];
    const keys = Array.from({ length: 40 }, (_, j) => 3 * j);
    // A query at position 60 (a cache: keys carry their own positions).
    const bias = biasOf(t5, context([[60]], [keys], true));
    const options = { bidirectional: false, numBuckets: 32, maxDistance: 128 };
    keys.forEach((key, j) => {
      const bucket = t5RelativePositionBucket(key - 60, options);
      if (key >= 60) expect(bucket).toBe(0);
      for (let h = 0; h < spec.heads; h++)
        expect(bias[0]![h]![0]![j]).toBeCloseTo(table[bucket]![h]!, 6);
    });
    // Earlier keys (keys ascend, so distance shrinks along j): buckets never grow along j.
    const earlier = keys
      .filter((k) => k < 60)
      .map((k) => t5RelativePositionBucket(k - 60, options));
    earlier.slice(1).forEach((bucket, j) => expect(bucket).toBeLessThanOrEqual(earlier[j]!));
    expect(new Set(earlier).size).toBeGreaterThan(10);
    t5.dispose();
  });

  it('bidirectional by default when attention is not causal; an explicit setting wins', () => {
    const ids = [[0, 5, 20]];
    const auto = new T5RelativeBias({ numBuckets: 32, maxDistance: 128, perLayer: false });
    const forced = new T5RelativeBias({
      numBuckets: 32,
      maxDistance: 128,
      perLayer: false,
      bidirectional: false,
    });
    auto.build(spec);
    forced.build(spec);
    const table = auto.parameters()[SHARED_TABLE]!.arraySync() as number[][];
    const autoBias = biasOf(auto, context(ids, ids, false));
    const forcedBias = biasOf(forced, context(ids, ids, false));
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        const d = ids[0]![j]! - ids[0]![i]!;
        const bucket = t5RelativePositionBucket(d, {
          bidirectional: true,
          numBuckets: 32,
          maxDistance: 128,
        });
        expect(autoBias[0]![1]![i]![j]).toBeCloseTo(table[bucket]![1]!, 6);
      }
    expect(forcedBias[0]![0]![0]![2]).toBeCloseTo(forcedBias[0]![0]![0]![0]!, 6);
    expect(autoBias[0]![0]![0]![2]).not.toBeCloseTo(autoBias[0]![0]![0]![0]!, 6);
    auto.dispose();
    forced.dispose();
  });

  it('shares one table across layers unless perLayer, with stable names', () => {
    const shared = new T5RelativeBias({ numBuckets: 32, maxDistance: 128, perLayer: false });
    const perLayer = new T5RelativeBias({ numBuckets: 32, maxDistance: 128, perLayer: true });
    shared.build(spec);
    perLayer.build(spec);
    expect(Object.keys(shared.parameters())).toEqual([SHARED_TABLE]);
    expect(shared.parameters()[SHARED_TABLE]!.shape).toEqual([32, spec.heads]);
    expect(Object.keys(perLayer.parameters())).toEqual([
      'layers.0.attn.relative_attention_bias',
      'layers.1.attn.relative_attention_bias',
      'layers.2.attn.relative_attention_bias',
    ]);
    const ids = [[0, 1, 2]];
    expect(biasOf(shared, context(ids, ids, true, 0))).toEqual(
      biasOf(shared, context(ids, ids, true, 2)),
    );
    expect(biasOf(perLayer, context(ids, ids, true, 0))).not.toEqual(
      biasOf(perLayer, context(ids, ids, true, 2)),
    );
    expect(() => biasOf(perLayer, context(ids, ids, true, 3))).toThrow(
      /layer 3 has no bias table; built for 3 layers/,
    );
    shared.dispose();
    perLayer.dispose();
  });

  it('gives the table a gradient in proportion to how often each bucket occurs', () => {
    const t5 = new T5RelativeBias({ numBuckets: 8, maxDistance: 16, perLayer: false });
    t5.build(spec);
    const table = t5.parameters()[SHARED_TABLE]!;
    const ctx = context([[0, 1, 2, 3]], [[0, 1, 2, 3]], true);
    const q = tf.zeros([1, spec.heads, 4, spec.headDim]) as tf.Tensor4D;
    const { value, grads } = tf.variableGrads(
      () => tf.sum(t5.scoreBias(q, q, ctx)) as tf.Scalar,
      [table],
    );
    // Causal buckets of distances 0, −1, −2, −3 appear 10, 3, 2, 1 times (future keys use bucket 0).
    expect((grads[table.name]!.arraySync() as number[][]).map((row) => row[0])).toEqual([
      10, 3, 2, 1, 0, 0, 0, 0,
    ]);
    tf.dispose([value, q, ...Object.values(grads)]);
    disposeAttentionContext(ctx);
    t5.dispose();
  });

  it('rejects a maxDistance inside the exact buckets and a head count the table was not built for', () => {
    expect(
      () =>
        new T5RelativeBias({
          numBuckets: 32,
          maxDistance: 8,
          perLayer: false,
          bidirectional: true,
        }),
    ).toThrow(/field 'maxDistance' = 8 is not allowed; expected more than the 8 exact buckets/);
    expect(() => new T5RelativeBias({ numBuckets: 32, maxDistance: 16, perLayer: false })).toThrow(
      /maxDistance' = 16.*16 exact buckets of causal/,
    );
    const t5 = new T5RelativeBias({ numBuckets: 32, maxDistance: 128, perLayer: false });
    expect(() => biasOf(t5, context([[0]], [[0]], true))).toThrow(/build\(spec\) must be called/);
    t5.build({ ...spec, heads: 2 });
    expect(() => biasOf(t5, context([[0]], [[0]], true))).toThrow(
      /attention has 4 heads, the bias table \[32,2\] was built for 2/,
    );
    t5.dispose();
  });
});
