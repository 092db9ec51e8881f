/**
 * FFT-RPE in core's linear attention equals the explicit Toeplitz-weighted O(N²) computation:
 * out_i = Σ_j c(p_j − p_i) φ(q_i)·φ(k_j) v_j / (Σ_j c(p_j − p_i) φ(q_i)·φ(k_j) + ε), with
 * c(τ) = exp(b[bucket(τ)]) and, when causal, only keys up to the query's own; both the fused
 * forward of evaluation and the stored-channel product a gradient tape records.
 */
import { describe, expect, it } from 'vitest';
import {
  applyFeatureMap,
  createFromDefinition,
  linearAttention,
  positionsFromIds,
  tf,
} from '@posenc/core';
import {
  attentionContext,
  disposeAttentionContext,
  expectClose,
  onCpuWithoutLeaks,
  testBuildSpec,
} from '@posenc/core/testing';
import { fftRpeDefinition, FFT_RPE_LEAF, type FftRpeEncoding } from './fft-rpe-encoding.js';

onCpuWithoutLeaks();

const EPS = 1e-6;

function explicit(
  encoding: FftRpeEncoding,
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  queryIds: number[][],
  keyIds: number[][],
  causal: boolean,
  keyValid?: number[][],
): Float64Array {
  const fq = applyFeatureMap(q, 'elu+1');
  const fk = applyFeatureMap(k, 'elu+1');
  const [b, h, nq, m] = fq.shape;
  const nk = fk.shape[2];
  const dv = v.shape[3];
  const [qa, ka, va] = [fq.dataSync(), fk.dataSync(), v.dataSync()];
  tf.dispose([fq, fk]);
  const table = Object.values(encoding.parameters())[0]!.dataSync();
  const size = encoding.tableSize;
  const out = new Float64Array(b * h * nq * dv);
  for (let r = 0; r < b; r++)
    for (let head = 0; head < h; head++)
      for (let i = 0; i < nq; i++) {
        const num = new Float64Array(dv);
        let den = 0;
        for (let j = 0; j < nk; j++) {
          const tau = keyIds[r]![j]! - queryIds[r]![i]!;
          if ((causal && tau > 0) || keyValid?.[r]![j] === 0) continue;
          let dot = 0;
          for (let a = 0; a < m; a++)
            dot += qa[((r * h + head) * nq + i) * m + a]! * ka[((r * h + head) * nk + j) * m + a]!;
          const w = Math.exp(table[head * size + encoding.bucketOf(tau)]!) * dot;
          den += w;
          for (let d = 0; d < dv; d++) num[d] += w * va[((r * h + head) * nk + j) * dv + d]!;
        }
        for (let d = 0; d < dv; d++)
          out[((r * h + head) * nq + i) * dv + d] = num[d]! / (den + EPS);
      }
  return out;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

function encodingWith(config: Record<string, unknown>): FftRpeEncoding {
  const encoding = createFromDefinition(fftRpeDefinition, config) as FftRpeEncoding;
  encoding.build(testBuildSpec({ heads: 2, headDim: 4, layers: 1 }));
  const table = encoding.parameters()[`layers.0.attn.${FFT_RPE_LEAF}`]!;
  tf.tidy(() => table.assign(tf.randomNormal(table.shape, 0, 1, 'float32', 9)));
  return encoding;
}

describe('FFT-RPE equals the explicit Toeplitz-weighted attention', () => {
  const cases: {
    name: string;
    causal: boolean;
    keys: number[][];
    queries: number;
    maxDistance?: number;
  }[] = [
    {
      name: 'non-causal, contiguous',
      causal: false,
      keys: [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
      queries: 10,
    },
    {
      name: 'causal, contiguous',
      causal: true,
      keys: [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
      queries: 10,
    },
    {
      name: 'causal after a cache, rows with gaps of their own',
      causal: true,
      keys: [
        [2, 3, 5, 8, 9, 10, 14, 15],
        [0, 4, 5, 6, 7, 11, 12, 20],
      ],
      queries: 5,
    },
    { name: 'non-causal, gaps', causal: false, keys: [[1, 2, 4, 7, 8, 30, 31, 33]], queries: 8 },
    // Longer than the band path's window (maxDistance 4: blocks of 4, a window of 12 keys), so
    // both of its tails carry keys; the cache rows put keys before the first query.
    { name: 'non-causal, 30 positions', causal: false, keys: [range(3, 33)], queries: 30 },
    { name: 'causal, 30 positions', causal: true, keys: [range(0, 30)], queries: 30 },
    { name: 'causal after a 13-key cache', causal: true, keys: [range(-5, 26)], queries: 18 },
    { name: 'non-causal after a 13-key cache', causal: false, keys: [range(0, 31)], queries: 18 },
    // maxDistance past the whole span: the band path's window is the sequence itself.
    {
      name: 'causal, within maxDistance',
      causal: true,
      keys: [range(0, 30)],
      queries: 30,
      maxDistance: 40,
    },
    {
      name: 'non-causal, within maxDistance',
      causal: false,
      keys: [range(0, 30)],
      queries: 25,
      maxDistance: 40,
    },
  ];
  const consecutive = (rows: number[][]) =>
    rows.every((r) => r.every((p, i) => p === r[0]! + i) && r[0] === rows[0]![0]);
  for (const algorithm of ['fft', 'band', 'auto'] as const)
    for (const buckets of ['clip', 'log'] as const)
      for (const c of cases)
        it(`${c.name} (${buckets} buckets, algorithm ${algorithm})`, () => {
          const encoding = encodingWith({
            buckets,
            maxDistance: c.maxDistance ?? 4,
            numBuckets: 6,
            algorithm,
          });
          const batch = 2;
          const keyIds = c.keys.length === batch ? c.keys : [c.keys[0]!, c.keys[0]!];
          const queryIds = keyIds.map((row) => row.slice(row.length - c.queries));
          const nk = keyIds[0]!.length;
          const q = tf.randomNormal([batch, 2, c.queries, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
          const k = tf.randomNormal([batch, 2, nk, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
          const v = tf.randomNormal([batch, 2, nk, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
          const ctx = attentionContext({
            queries: positionsFromIds(queryIds),
            keys: positionsFromIds(keyIds),
            heads: 2,
            headDim: 4,
            causal: c.causal,
            kind: 'linear',
          });
          const attend = (x: tf.Tensor4D) =>
            linearAttention(x, k, v, { encodings: [encoding], ctx, eps: EPS });
          if (algorithm === 'band' && !consecutive(keyIds)) {
            expect(() => attend(q)).toThrow(
              /algorithm 'band' does not apply: (key|query) positions of row \d are not consecutive/,
            );
            tf.dispose([q, k, v]);
            disposeAttentionContext(ctx);
            encoding.dispose();
            return;
          }
          const expected = explicit(encoding, q, k, v, queryIds, keyIds, c.causal);
          // Evaluation runs the fused forward; under a gradient tape, the stored-channel product.
          const out = attend(q);
          expectClose(out, expected, { atol: 1e-5 }, 'fused forward');
          let taped: tf.Tensor | undefined;
          const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => {
            const y = attend(x as tf.Tensor4D);
            taped = tf.keep(y.clone());
            return y.sum();
          })(q);
          tf.dispose([value, grad]);
          expectClose(taped!, expected, { atol: 1e-5 }, 'under a gradient tape');
          tf.dispose([q, k, v, out, taped!]);
          disposeAttentionContext(ctx);
          encoding.dispose();
        });

  // The band path's gradient is TF.js's own, the FFT path's a hand-written one: they must agree
  // for every input and for the bias table, with both tails carrying keys.
  for (const causal of [false, true])
    for (const buckets of ['clip', 'log'] as const)
      it(`band and FFT paths have the same gradients (${causal ? 'causal' : 'non-causal'}, ${buckets})`, () => {
        const ids = [range(0, 30)];
        const queries = positionsFromIds([range(8, 30)]);
        const ctx = attentionContext({
          queries,
          keys: positionsFromIds(ids),
          heads: 2,
          headDim: 4,
          causal,
          kind: 'linear',
        });
        const inputs = tf.tidy(() => [
          tf.variable(tf.randomNormal([2, 2, 22, 4], 0, 1, 'float32', 1)),
          tf.variable(tf.randomNormal([2, 2, 30, 4], 0, 1, 'float32', 2)),
          tf.variable(tf.randomNormal([2, 2, 30, 3], 0, 1, 'float32', 3)),
        ]);
        const probe = tf.randomNormal([2, 2, 22, 3], 0, 1, 'float32', 4);
        const gradients = (algorithm: 'fft' | 'band') => {
          const encoding = encodingWith({ buckets, maxDistance: 4, numBuckets: 6, algorithm });
          const table = Object.values(encoding.parameters())[0]!;
          const [q, k, v] = inputs as [tf.Variable, tf.Variable, tf.Variable];
          const { value, grads } = tf.variableGrads(
            () =>
              tf.sum(
                tf.mul(
                  linearAttention(
                    q as unknown as tf.Tensor4D,
                    k as unknown as tf.Tensor4D,
                    v as unknown as tf.Tensor4D,
                    {
                      encodings: [encoding],
                      ctx,
                      eps: EPS,
                    },
                  ),
                  probe,
                ),
              ) as tf.Scalar,
            [q, k, v, table],
          );
          const out = [q, k, v, table].map((x) => grads[x.name]!);
          value.dispose();
          encoding.dispose();
          return out;
        };
        const fft = gradients('fft');
        const band = gradients('band');
        ['q', 'k', 'v', 'table'].forEach((name, i) => {
          const largest = tf.tidy(() => tf.max(tf.abs(fft[i]!)));
          expect(largest.dataSync()[0]).toBeGreaterThan(1e-3);
          largest.dispose();
          expectClose(band[i]!, fft[i]!.dataSync(), { atol: 1e-4 }, `gradient of ${name}`);
        });
        tf.dispose([...fft, ...band, ...inputs, probe]);
        disposeAttentionContext(ctx);
      });

  it('padding keys are left out exactly', () => {
    const encoding = encodingWith({ maxDistance: 3 });
    const ids = [
      [0, 1, 2, 3, 4, 5],
      [0, 1, 2, 3, 4, 5],
    ];
    const valid = [
      [1, 1, 1, 1, 0, 0],
      [1, 1, 1, 1, 1, 1],
    ];
    const q = tf.randomNormal([2, 2, 6, 4], 0, 1, 'float32', 4) as tf.Tensor4D;
    const k = tf.randomNormal([2, 2, 6, 4], 0, 1, 'float32', 5) as tf.Tensor4D;
    const v = tf.randomNormal([2, 2, 6, 3], 0, 1, 'float32', 6) as tf.Tensor4D;
    const keyValid = tf.tensor2d(valid) as tf.Tensor2D;
    const ctx = attentionContext({
      queries: positionsFromIds(ids),
      heads: 2,
      headDim: 4,
      kind: 'linear',
    });
    const out = linearAttention(q, k, v, { encodings: [encoding], ctx, eps: EPS, keyValid });
    expectClose(out, explicit(encoding, q, k, v, ids, ids, false, valid), { atol: 1e-5 });
    tf.dispose([q, k, v, out, keyValid]);
    disposeAttentionContext(ctx);
    encoding.dispose();
  });

  it('refuses positions that are fractional, or decreasing under causal attention', () => {
    const encoding = encodingWith({});
    const q = tf.ones([1, 2, 3, 4]) as tf.Tensor4D;
    const v = tf.ones([1, 2, 3, 2]) as tf.Tensor4D;
    for (const [ids, causal, message] of [
      [[[0, 1.5, 2]], false, /integer positions; query position \[0\]\[1\] = 1.5/],
      [[[0, 2, 1]], true, /increasing key positions; row 0 has 2 then 1/],
    ] as const) {
      const ctx = attentionContext({
        queries: positionsFromIds(ids.map((r) => [...r])),
        heads: 2,
        headDim: 4,
        causal,
        kind: 'linear',
      });
      expect(() => linearAttention(q, q, v, { encodings: [encoding], ctx })).toThrow(message);
      disposeAttentionContext(ctx);
    }
    tf.dispose([q, v]);
    encoding.dispose();
  });
});
