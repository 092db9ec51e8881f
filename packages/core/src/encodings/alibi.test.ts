import { describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { mulberry32 } from '../data/random.js';
import {
  attentionContext,
  disposeAttentionContext,
  goldenCaseFiles,
  goldenEntry,
  goldenValues,
  onCpuWithoutLeaks,
  readGoldenCase,
} from '../testing/index.js';
import { alibiSlopes, AlibiEncoding } from './alibi.js';

onCpuWithoutLeaks();

/** Bias `[B,H,Nq,Nk]` of an encoding for the given positions, as nested arrays; frees everything. */
function biasFor(
  alibi: AlibiEncoding,
  queries: number[][],
  keys: number[][],
  heads: number,
  causal: boolean,
): number[][][][] {
  const ctx = attentionContext({ queries, keys, heads, causal });
  const q = tf.zeros([queries.length, heads, queries[0]!.length, 8]) as tf.Tensor4D;
  const k = tf.zeros([keys.length, heads, keys[0]!.length, 8]) as tf.Tensor4D;
  try {
    return tf.tidy(() => alibi.scoreBias(q, k, ctx).arraySync() as number[][][][]);
  } finally {
    tf.dispose([q, k]);
    disposeAttentionContext(ctx);
  }
}

describe('alibiSlopes', () => {
  for (const file of goldenCaseFiles('alibi'))
    it(`equals get_slopes of the official code for every head count of ${file}`, async () => {
      const golden = await readGoldenCase('alibi', file);
      const headCounts = (golden.config as { head_counts: number[] }).head_counts;
      expect(headCounts.length).toBeGreaterThan(0);
      for (const heads of headCounts) {
        const expected = goldenValues(goldenEntry(golden, `slopes_${heads}`));
        const slopes = alibiSlopes(heads);
        expect(slopes).toHaveLength(heads);
        slopes.forEach((slope, h) => {
          // JS's ** and C's pow differ in the last float64 bits; float32, as used, is exact.
          expect(Math.abs(slope - expected[h]!)).toBeLessThanOrEqual(1e-14 * expected[h]!);
          expect(Math.fround(slope)).toBe(Math.fround(expected[h]!));
        });
      }
    });

  it('rejects a head count that is not a positive integer', () => {
    expect(() => alibiSlopes(0)).toThrow(/heads = 0/);
    expect(() => alibiSlopes(2.5)).toThrow(/heads = 2.5/);
  });
});

describe('AlibiEncoding', () => {
  it('causal: the bias is slope·(key − query) at random fractional positions with a cache offset', () => {
    const rand = mulberry32(7);
    const heads = 6;
    const queryIds = [
      Array.from({ length: 5 }, () => 40 + 30 * rand()),
      Array.from({ length: 5 }, () => 200 * rand()),
    ];
    const keyIds = [
      Array.from({ length: 9 }, () => 70 * rand()),
      Array.from({ length: 9 }, () => 200 * rand()),
    ];
    const alibi = new AlibiEncoding({ variant: 'causal' });
    const bias = biasFor(alibi, queryIds, keyIds, heads, true);
    const slopes = alibiSlopes(heads);
    for (let b = 0; b < 2; b++)
      for (let h = 0; h < heads; h++)
        for (let i = 0; i < 5; i++)
          for (let j = 0; j < 9; j++) {
            const distance = keyIds[b]![j]! - queryIds[b]![i]!;
            expect(bias[b]![h]![i]![j]!).toBeCloseTo(slopes[h]! * distance, 4);
          }
    // Linear in distance: the difference between two keys of a row depends only on their distance.
    const h = 2;
    const i = 3;
    expect(bias[0]![h]![i]![1]! - bias[0]![h]![i]![4]!).toBeCloseTo(
      slopes[h]! * (keyIds[0]![1]! - keyIds[0]![4]!),
      4,
    );
    alibi.dispose();
  });

  it('the bias does not depend on the head dimension (not scaled by 1/√D)', () => {
    const alibi = new AlibiEncoding({ variant: 'causal' });
    const ctx = attentionContext({ queries: [[0, 1, 2]], heads: 4, causal: true });
    const biasAt = (headDim: number) =>
      tf.tidy(() => {
        const q = tf.zeros([1, 4, 3, headDim]) as tf.Tensor4D;
        return alibi.scoreBias(q, q, ctx).arraySync();
      });
    expect(biasAt(2)).toEqual(biasAt(64));
    disposeAttentionContext(ctx);
    alibi.dispose();
  });

  it('symmetric: −slope·|key − query|, symmetric in query and key, never positive', () => {
    const rand = mulberry32(11);
    const heads = 5;
    const ids = [Array.from({ length: 7 }, () => 50 * rand())];
    const alibi = new AlibiEncoding({ variant: 'symmetric' });
    const bias = biasFor(alibi, ids, ids, heads, false);
    const slopes = alibiSlopes(heads);
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < 7; i++)
        for (let j = 0; j < 7; j++) {
          expect(bias[0]![h]![i]![j]).toBe(bias[0]![h]![j]![i]);
          expect(bias[0]![h]![i]![j]!).toBeLessThanOrEqual(0);
          expect(bias[0]![h]![i]![j]!).toBeCloseTo(
            -slopes[h]! * Math.abs(ids[0]![j]! - ids[0]![i]!),
            4,
          );
        }
    alibi.dispose();
  });

  it('refuses the causal variant on non-causal attention', () => {
    const alibi = new AlibiEncoding({ variant: 'causal' });
    expect(() => biasFor(alibi, [[0, 1]], [[0, 1]], 2, false)).toThrow(
      /variant 'causal' on non-causal attention.*'symmetric'/,
    );
    alibi.dispose();
  });
});
