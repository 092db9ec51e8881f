import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import type {
  AttentionContext,
  LinearFeatures,
  PositionEncoding,
} from '../encoding/position-encoding.js';
import { sequencePositions } from '../positions/positions.js';
import {
  attentionContext,
  checkGradientsByFiniteDifferences,
  disposeAttentionContext,
  expectClose,
  expectNoTensorLeaks,
} from '../testing/index.js';
import { applyFeatureMap, linearAttention, type FeatureMapName } from './linear-attention.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Nq queries after a cache of Nk − Nq keys, in linear attention with 3 heads. */
function context(causal: boolean, nq: number, nk: number): AttentionContext {
  return attentionContext({
    queries: sequencePositions(2, nq, nk - nq),
    keys: sequencePositions(2, nk),
    heads: 3,
    causal,
    kind: 'linear',
  });
}

/**
 * The O(N²) definition: A_ij = φ(q_i)·φ(k_j), masked to j ≤ i + (Nk − Nq) when causal;
 * out_i = Σ_j A_ij v_j / (Σ_j A_ij + eps), evaluated in float64 in plain JS.
 */
function direct(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  map: FeatureMapName,
  causal: boolean,
): number[][][][] {
  const fq = applyFeatureMap(q, map).arraySync();
  const fk = applyFeatureMap(k, map).arraySync();
  const vv = v.arraySync();
  const [b, h, nq] = q.shape;
  const nk = k.shape[2];
  const out: number[][][][] = [];
  for (let bi = 0; bi < b; bi++) {
    out.push([]);
    for (let hi = 0; hi < h; hi++) {
      out[bi]!.push([]);
      for (let i = 0; i < nq; i++) {
        const num = new Array(vv[0]![0]![0]!.length).fill(0);
        let den = 0;
        for (let j = 0; j < nk; j++) {
          if (causal && j > i + (nk - nq)) continue;
          const a = fq[bi]![hi]![i]!.reduce((s, x, d) => s + x * fk[bi]![hi]![j]![d]!, 0);
          den += a;
          vv[bi]![hi]![j]!.forEach((x, d) => (num[d] += a * x));
        }
        out[bi]![hi]!.push(num.map((x) => x / (den + 1e-6)));
      }
    }
  }
  return out;
}

describe('linear attention equals the direct O(N²) kernelised attention', () => {
  for (const map of ['elu+1', 'relu'] as const) {
    for (const causal of [false, true]) {
      for (const [nq, nk, chunk] of [
        [13, 13, 4],
        [10, 10, 64],
        [7, 12, 3],
      ] as const) {
        if (!causal && nq !== nk) continue;
        it(`${map}, ${causal ? 'causal' : 'non-causal'}, Nq=${nq}, Nk=${nk}, chunk ${chunk}`, () => {
          const q = tf.randomNormal([2, 3, nq, 8], 0, 1, 'float32', 1) as tf.Tensor4D;
          const k = tf.randomNormal([2, 3, nk, 8], 0, 1, 'float32', 2) as tf.Tensor4D;
          const v = tf.randomNormal([2, 3, nk, 5], 0, 1, 'float32', 3) as tf.Tensor4D;
          const ctx = context(causal, nq, nk);
          const expected = tf.tidy(() => direct(q, k, v, map, causal));
          expectNoTensorLeaks(() => {
            const out = linearAttention(q, k, v, {
              encodings: [],
              ctx,
              featureMap: map,
              chunkSize: chunk,
            });
            expectClose(out, expected, { atol: 1e-5 });
            out.dispose();
          });
          tf.dispose([q, k, v]);
          disposeAttentionContext(ctx);
        });
      }
    }
  }

  it('gradients match finite differences (causal, chunked)', () => {
    const k = tf.randomNormal([1, 1, 6, 4], 0, 1, 'float32', 5) as tf.Tensor4D;
    const v = tf.randomNormal([1, 1, 6, 3], 0, 1, 'float32', 6) as tf.Tensor4D;
    const q = tf.tidy(() => tf.variable(tf.randomNormal([1, 1, 6, 4], 0, 1, 'float32', 7)));
    const ctx = context(true, 6, 6);
    checkGradientsByFiniteDifferences(
      () => [linearAttention(q as tf.Tensor4D, k, v, { encodings: [], ctx, chunkSize: 4 })],
      { q },
      { seed: 3, sampledEntries: 4 },
    );
    tf.dispose([q, k, v]);
    disposeAttentionContext(ctx);
  });
});

describe('linear hooks', () => {
  it('linearFeatures can give the numerator and denominator different features', () => {
    // Scaling only the numerator's key features by 2 doubles the output: proves the split is honoured.
    const doubler: PositionEncoding = {
      name: 'test-doubler',
      config: {},
      supports: ['linear'],
      linearFeatures: (f: LinearFeatures) => ({
        ...f,
        numeratorK: tf.mul(f.numeratorK, 2) as tf.Tensor4D,
      }),
    };
    const q = tf.randomNormal([1, 2, 5, 4], 0, 1, 'float32', 8) as tf.Tensor4D;
    const k = tf.randomNormal([1, 2, 5, 4], 0, 1, 'float32', 9) as tf.Tensor4D;
    const v = tf.randomNormal([1, 2, 5, 3], 0, 1, 'float32', 10) as tf.Tensor4D;
    for (const causal of [false, true]) {
      const ctx = context(causal, 5, 5);
      const plain = linearAttention(q, k, v, { encodings: [], ctx, eps: 0 });
      const hooked = linearAttention(q, k, v, { encodings: [doubler], ctx, eps: 0 });
      const diff = tf.sub(hooked, tf.mul(plain, 2)).abs().max().dataSync()[0]!;
      expect(diff).toBeLessThan(1e-5);
    }
  });

  it('linearQueryKey runs before the feature map', () => {
    const negate: PositionEncoding = {
      name: 'test-negate',
      config: {},
      supports: ['linear'],
      linearQueryKey: (q, k) => ({ q: tf.neg(q) as tf.Tensor4D, k: tf.neg(k) as tf.Tensor4D }),
    };
    const q = tf.randomNormal([1, 1, 4, 4], 0, 1, 'float32', 11) as tf.Tensor4D;
    const k = tf.randomNormal([1, 1, 4, 4], 0, 1, 'float32', 12) as tf.Tensor4D;
    const v = tf.randomNormal([1, 1, 4, 2], 0, 1, 'float32', 13) as tf.Tensor4D;
    const ctx = context(false, 4, 4);
    const hooked = linearAttention(q, k, v, { encodings: [negate], ctx, featureMap: 'relu' });
    const expected = linearAttention(tf.neg(q) as tf.Tensor4D, tf.neg(k) as tf.Tensor4D, v, {
      encodings: [],
      ctx,
      featureMap: 'relu',
    });
    expect(tf.sub(hooked, expected).abs().max().dataSync()[0]).toBeLessThan(1e-7);
  });
});
