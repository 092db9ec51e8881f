import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import type { AttentionContext } from '../encoding/position-encoding.js';
import { decodeToFloat32, readSafetensorsFile, type TensorEntry } from '../io/safetensors.js';
import { disposePositions, positionsFromIds } from '../positions/positions.js';
import { goldenPath } from '../testing/golden.js';
import { alibiSlopes, AlibiEncoding } from './alibi.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Golden values at full precision: float64 tensors are viewed as stored. */
function goldenValues(entry: TensorEntry): Float64Array {
  if (entry.dtype === 'F64')
    return new Float64Array(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength / 8);
  return Float64Array.from(decodeToFloat32(entry));
}

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return state / 2 ** 32;
  };
}

function context(
  queryIds: number[][],
  keyIds: number[][],
  heads: number,
  causal: boolean,
): AttentionContext {
  return {
    queryPositions: positionsFromIds(queryIds),
    keyPositions: positionsFromIds(keyIds),
    heads,
    headDim: 8,
    causal,
    layer: 0,
    kind: 'softmax',
    training: false,
  };
}

function disposeContext(ctx: AttentionContext): void {
  disposePositions(ctx.queryPositions);
  disposePositions(ctx.keyPositions);
}

/** Bias `[B,H,Nq,Nk]` of an encoding for the given positions, as nested arrays; frees everything. */
function biasFor(
  alibi: AlibiEncoding,
  queryIds: number[][],
  keyIds: number[][],
  heads: number,
  causal: boolean,
): number[][][][] {
  const ctx = context(queryIds, keyIds, heads, causal);
  const q = tf.zeros([queryIds.length, heads, queryIds[0]!.length, 8]) as tf.Tensor4D;
  const k = tf.zeros([keyIds.length, heads, keyIds[0]!.length, 8]) as tf.Tensor4D;
  const bias = alibi.scoreBias(q, k, ctx);
  const values = bias.arraySync() as number[][][][];
  tf.dispose([q, k, bias]);
  disposeContext(ctx);
  return values;
}

describe('alibiSlopes', () => {
  it('equals get_slopes of the official code for every head count in the golden file', async () => {
    const golden = await readSafetensorsFile(goldenPath('alibi', 'slopes.safetensors'));
    const headCounts = (JSON.parse(golden.metadata!['config']!) as { head_counts: number[] })
      .head_counts;
    expect(headCounts.length).toBeGreaterThan(0);
    for (const heads of headCounts) {
      const expected = goldenValues(golden.tensors.get(`slopes_${heads}`)!);
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
    const rand = random(7);
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
    const before = tf.memory().numTensors;
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
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the bias does not depend on the head dimension (not scaled by 1/√D)', () => {
    const alibi = new AlibiEncoding({ variant: 'causal' });
    const ctx = context([[0, 1, 2]], [[0, 1, 2]], 4, true);
    const small = alibi.scoreBias(
      tf.zeros([1, 4, 3, 2]) as tf.Tensor4D,
      tf.zeros([1, 4, 3, 2]) as tf.Tensor4D,
      ctx,
    );
    const large = alibi.scoreBias(
      tf.zeros([1, 4, 3, 64]) as tf.Tensor4D,
      tf.zeros([1, 4, 3, 64]) as tf.Tensor4D,
      ctx,
    );
    expect(small.arraySync()).toEqual(large.arraySync());
    tf.dispose([small, large]);
    disposeContext(ctx);
    alibi.dispose();
  });

  it('symmetric: −slope·|key − query|, symmetric in query and key, never positive', () => {
    const rand = random(11);
    const heads = 5;
    const ids = [Array.from({ length: 7 }, () => 50 * rand())];
    const alibi = new AlibiEncoding({ variant: 'symmetric' });
    const before = tf.memory().numTensors;
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
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps one slope tensor between calls, even inside tf.tidy as attention calls it, and frees it in dispose', () => {
    const alibi = new AlibiEncoding({ variant: 'causal' });
    const before = tf.memory().numTensors;
    tf.tidy(() => biasFor(alibi, [[0, 1]], [[0, 1]], 4, true));
    expect(tf.memory().numTensors).toBe(before + 1);
    const again = tf.tidy(() => biasFor(alibi, [[0, 1]], [[0, 1]], 4, true));
    expect(again[0]![3]![0]![1]).toBeCloseTo(alibiSlopes(4)[3]!, 6);
    expect(tf.memory().numTensors).toBe(before + 1);
    alibi.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses the causal variant on non-causal attention', () => {
    const alibi = new AlibiEncoding({ variant: 'causal' });
    expect(() => biasFor(alibi, [[0, 1]], [[0, 1]], 2, false)).toThrow(
      /variant 'causal' on non-causal attention.*'symmetric'/,
    );
    alibi.dispose();
  });
});
