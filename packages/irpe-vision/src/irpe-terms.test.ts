/**
 * The efficient terms against their definitions written out with the `[Lq, Lk, D]` tensor the
 * efficient path avoids, their gradients by finite differences (the gather's is a scatter-add,
 * the segment sum's a gather), and the profile of a forward and backward pass: no kernel makes a
 * tensor as large as `[B, H, Lq, Lk, D]`.
 */
import { tf } from '@posenc/core';
import {
  checkGradientsByFiniteDifferences,
  expectClose,
  onCpuWithoutLeaks,
} from '@posenc/core/testing';
import { describe, expect, it } from 'vitest';
import { bucketIds } from './buckets/bucket-ids.js';
import { coefficientsOf } from './buckets/piecewise-index.js';
import { biasScores, bucketProducts, gatherScores, valueTerm } from './irpe-terms.js';

onCpuWithoutLeaks();

const [B, H, D] = [2, 3, 4];
const GRID = { height: 3, width: 4, skip: 1 };
const L = GRID.skip + GRID.height * GRID.width;
const coefficients = coefficientsOf(1.9);
const ids = bucketIds('product', coefficients, GRID.height, GRID.width, GRID.skip);
const BUCKETS = 50;

/** i·nb + b(i,j), the contextual gather's flat index. */
function flatIndex(): tf.Tensor1D {
  return tf.tensor1d(
    Array.from(ids, (id, n) => Math.floor(n / L) * BUCKETS + id),
    'int32',
  );
}

/** r[b(i,j)] as `[L, L, D]` from a table `[D, nb]` of one head: what the efficient path avoids. */
function expanded(table: number[][]): number[][][] {
  return Array.from({ length: L }, (_, i) =>
    Array.from({ length: L }, (_, j) => table.map((row) => row[ids[i * L + j]!]!)),
  );
}

describe('the efficient iRPE terms', () => {
  it('contextual: gathered q·W equals q_i·r[b(i,j)] for shared and per-head tables', () => {
    const q = tf.randomNormal([B, H, L, D], 0, 1, 'float32', 1) as tf.Tensor4D;
    const index = flatIndex();
    for (const tables of [1, H]) {
      const weight = tf.randomNormal([tables, D, BUCKETS], 0, 1, 'float32', 2) as tf.Tensor3D;
      const scores = tf.tidy(() => gatherScores(bucketProducts(q, weight), index, L, L));
      const qs = q.arraySync();
      const w = weight.arraySync();
      const expected = qs.map((heads) =>
        heads.map((rows, h) => {
          const r = expanded(w[tables === 1 ? 0 : h]!);
          return rows.map((qi, i) =>
            r[i]!.map((rij) => rij.reduce((s, x, d) => s + x * qi[d]!, 0)),
          );
        }),
      );
      expectClose(scores, expected, { atol: 1e-5 });
      tf.dispose([weight, scores]);
    }
    tf.dispose([q, index]);
  });

  it('bias: the table read at the bucket ids, broadcast over the batch', () => {
    const table = tf.randomNormal([H, BUCKETS], 0, 1, 'float32', 3) as tf.Tensor2D;
    const index = tf.tensor1d(ids, 'int32');
    const scores = biasScores(table, index, L, L);
    expect(scores.shape).toEqual([1, H, L, L]);
    const t = table.arraySync();
    expectClose(
      scores,
      [
        t.map((row) =>
          Array.from({ length: L }, (_, i) =>
            Array.from({ length: L }, (_, j) => row[ids[i * L + j]!]!),
          ),
        ),
      ],
      { atol: 0 },
    );
    tf.dispose([table, index, scores]);
  });

  it('values: per-bucket sums of the probabilities times the table equal Σ_j α_ij r[b(i,j)]', () => {
    const probs = tf.tidy(() =>
      tf.softmax(tf.randomNormal([B, H, L, L], 0, 1, 'float32', 4)),
    ) as tf.Tensor4D;
    const index = flatIndex();
    for (const tables of [1, H]) {
      const weight = tf.randomNormal([tables, BUCKETS, D], 0, 1, 'float32', 5) as tf.Tensor3D;
      const out = valueTerm(probs, index, weight);
      const p = probs.arraySync();
      const w = weight.arraySync();
      const expected = p.map((heads) =>
        heads.map((rows, h) => {
          const table = w[tables === 1 ? 0 : h]!;
          return rows.map((alpha, i) =>
            Array.from({ length: D }, (_, d) =>
              alpha.reduce((s, a, j) => s + a * table[ids[i * L + j]!]![d]!, 0),
            ),
          );
        }),
      );
      expectClose(out, expected, { atol: 1e-5 });
      tf.dispose([weight, out]);
    }
    tf.dispose([probs, index]);
  });

  it("the contextual gather's gradient (a scatter-add) matches finite differences, for q and the table", () => {
    const q = tf.tidy(() => tf.variable(tf.randomNormal([B, H, L, D], 0, 1, 'float32', 6)));
    const weight = tf.tidy(() => tf.variable(tf.randomNormal([1, D, BUCKETS], 0, 1, 'float32', 7)));
    const index = flatIndex();
    checkGradientsByFiniteDifferences(
      () => [gatherScores(bucketProducts(q as tf.Tensor4D, weight as tf.Tensor3D), index, L, L)],
      { q, weight },
      { seed: 1, sampledEntries: 6 },
    );
    tf.dispose([q, weight, index]);
  });

  it("the value term's gradient (a gather) matches finite differences, for the probabilities and the table", () => {
    const probs = tf.tidy(() => tf.variable(tf.randomUniform([B, H, L, L], 0, 1, 'float32', 8)));
    const weight = tf.tidy(() => tf.variable(tf.randomNormal([H, BUCKETS, D], 0, 1, 'float32', 9)));
    const index = flatIndex();
    checkGradientsByFiniteDifferences(
      () => [valueTerm(probs as tf.Tensor4D, index, weight as tf.Tensor3D)],
      { probs, weight },
      { seed: 2, sampledEntries: 6 },
    );
    tf.dispose([probs, weight, index]);
  });

  it('forms no [B, H, Lq, Lk, D] tensor, forward or backward', async () => {
    const q = tf.randomNormal([B, H, L, D], 0, 1, 'float32', 10) as tf.Tensor4D;
    const probs = tf.tidy(() =>
      tf.softmax(tf.randomNormal([B, H, L, L], 0, 1, 'float32', 11)),
    ) as tf.Tensor4D;
    const w = tf.tidy(() => tf.variable(tf.randomNormal([1, D, BUCKETS], 0, 1, 'float32', 12)));
    const wv = tf.tidy(() => tf.variable(tf.randomNormal([1, BUCKETS, D], 0, 1, 'float32', 13)));
    const index = flatIndex();
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(
        () =>
          tf.add(
            tf.sum(gatherScores(bucketProducts(q, w as tf.Tensor3D), index, L, L)),
            tf.sum(valueTerm(probs, index, wv as tf.Tensor3D)),
          ) as tf.Scalar,
        [w, wv],
      );
      tf.dispose([value, ...Object.values(grads)]);
    });
    const largest = Math.max(
      ...profile.kernels.flatMap((k) => k.outputShapes.map((s) => s.reduce((a, b) => a * b, 1))),
    );
    expect(profile.kernels.length).toBeGreaterThan(5);
    expect(largest).toBeLessThan(B * H * L * L * D);
    tf.dispose([q, probs, w, wv, index]);
  });
});
