import { describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { mulberry32, normalFrom } from '../data/random.js';
import { sequencePositions } from '../positions/positions.js';
import {
  attentionContext,
  checkGradientsByFiniteDifferences,
  disposeAttentionContext,
  expectNoTensorLeaks,
  maxAbsDiff,
  onCpuWithoutLeaks,
} from '../testing/index.js';

const largestDifference = (a: tf.Tensor, b: tf.Tensor) => maxAbsDiff(a.dataSync(), b.dataSync());
import { Encoder } from '../models/encoder.js';
import { favorPlusFeatures, FavorPlusFeatureMap, orthogonalGaussianMatrix } from './favor-plus.js';
import { linearAttention } from './linear-attention.js';
import { softmaxAttention } from './softmax-attention.js';

onCpuWithoutLeaks();

describe('orthogonal Gaussian random matrix', () => {
  it('rows within a block are orthogonal; lengths are those of Gaussian vectors', () => {
    const [rows, cols] = [2000, 8];
    const m = orthogonalGaussianMatrix(rows, cols, normalFrom(mulberry32(1)));
    const row = (r: number) => m.subarray(r * cols, (r + 1) * cols);
    const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    let worst = 0;
    for (let start = 0; start < rows; start += cols)
      for (let i = start; i < Math.min(start + cols, rows); i++)
        for (let j = start; j < i; j++)
          worst = Math.max(
            worst,
            Math.abs(dot(row(i), row(j))) / Math.sqrt(dot(row(i), row(i)) * dot(row(j), row(j))),
          );
    expect(worst).toBeLessThan(1e-10);
    // E|ω|² = d for a Gaussian d-vector; over 2000 rows the mean is within ±0.2 (4σ is 0.25).
    let squares = 0;
    for (let r = 0; r < rows; r++) squares += dot(row(r), row(r));
    expect(Math.abs(squares / rows - cols)).toBeLessThan(0.25);
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => orthogonalGaussianMatrix(0, 4, Math.random)).toThrow(/rows = 0/);
  });
});

describe('FAVOR+ features', () => {
  it('estimate softmax attention: many random features approach its output', () => {
    // q·k/√d of order 1, as in a trained model's scaled scores.
    const scaled = (seed: number) =>
      tf.tidy(() =>
        tf.mul(tf.randomNormal([1, 2, 12, 8], 0, 1, 'float32', seed), 0.6),
      ) as tf.Tensor4D;
    const q = scaled(1);
    const k = scaled(2);
    const v = tf.randomNormal([1, 2, 12, 4], 0, 1, 'float32', 3) as tf.Tensor4D;
    const errors: number[] = [];
    for (const causal of [false, true]) {
      const ctx = attentionContext({
        queries: sequencePositions(1, 12),
        kind: 'linear',
        causal,
        heads: 2,
      });
      const exact = softmaxAttention(q, k, v, { encodings: [], ctx }).output;
      for (const features of [16, 4096]) {
        const favor = new FavorPlusFeatureMap({ features, seed: 3 });
        const approx = linearAttention(q, k, v, { encodings: [], ctx, featureMap: favor });
        errors.push(largestDifference(approx, exact));
        tf.dispose(approx);
        favor.dispose();
      }
      exact.dispose();
      disposeAttentionContext(ctx);
    }
    tf.dispose([q, k, v]);
    // Fixed seeds: with 4096 features the error is about 0.05, and far below the 16-feature one.
    const [few, many, fewCausal, manyCausal] = errors as [number, number, number, number];
    expect(many).toBeLessThan(0.08);
    expect(manyCausal).toBeLessThan(0.08);
    expect(many).toBeLessThan(few / 3);
    expect(manyCausal).toBeLessThan(fewCausal / 3);
  });

  it('are positive, of width m, and the stabilisers do not change the attention weights', () => {
    // Inputs small enough that the 10⁻⁴ added to every feature is negligible beside exp(·).
    const q = tf.tidy(() =>
      tf.mul(tf.randomNormal([2, 1, 5, 4], 0, 1, 'float32', 4), 0.3),
    ) as tf.Tensor4D;
    const projection = tf.randomNormal([4, 6], 0, 1, 'float32', 5) as tf.Tensor2D;
    const fq = favorPlusFeatures(q, projection, 'query');
    const fk = favorPlusFeatures(q, projection, 'key');
    expect(fq.shape).toEqual([2, 1, 5, 6]);
    expect(Math.min(...fq.dataSync())).toBeGreaterThan(0);
    // The two stabilisers differ by a constant per row: normalised rows agree.
    const normalised = (f: tf.Tensor) => tf.tidy(() => tf.div(f, tf.sum(f, 3, true)));
    const a = normalised(fq);
    const b = normalised(fk);
    expect(largestDifference(a, b)).toBeLessThan(1e-3);
    tf.dispose([q, projection, fq, fk, a, b]);
  });

  it('a projection per layer; redraw changes it, setDraw returns to it; dispose frees it', () => {
    const favor = new FavorPlusFeatureMap({ features: 8, seed: 9 });
    const first = favor.projection(0, 4).arraySync();
    expect(favor.projection(0, 4).arraySync()).toEqual(first);
    expect(favor.projection(1, 4).arraySync()).not.toEqual(first);
    favor.redraw();
    expect(favor.draw).toBe(1);
    expect(favor.projection(0, 4).arraySync()).not.toEqual(first);
    favor.setDraw(0);
    expect(favor.projection(0, 4).arraySync()).toEqual(first);
    expect(() => favor.setDraw(-1)).toThrow(/draw = -1/);
    favor.dispose();
  });

  it('gradients through the features match finite differences', () => {
    const favor = new FavorPlusFeatureMap({ features: 6, seed: 2 });
    const k = tf.randomNormal([1, 1, 5, 4], 0, 1, 'float32', 6) as tf.Tensor4D;
    const v = tf.randomNormal([1, 1, 5, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const q = tf.tidy(() => tf.variable(tf.randomNormal([1, 1, 5, 4], 0, 1, 'float32', 8)));
    const ctx = attentionContext({
      queries: sequencePositions(1, 5),
      kind: 'linear',
      causal: true,
    });
    checkGradientsByFiniteDifferences(
      () => [
        linearAttention(q as tf.Tensor4D, k, v, {
          encodings: [],
          ctx,
          featureMap: favor,
          chunkSize: 2,
        }),
      ],
      { q },
      { seed: 1 },
    );
    favor.dispose();
    tf.dispose([q, k, v]);
    disposeAttentionContext(ctx);
  });

  it("an Encoder with featureMap 'favor+' runs, and frees its random features", () => {
    expectNoTensorLeaks(() => {
      const model = new Encoder(
        {
          vocabSize: 7,
          modelDim: 8,
          heads: 2,
          layers: 2,
          attention: 'linear',
          featureMap: 'favor+',
          randomFeatures: 16,
          norm: 'pre',
        },
        [],
      );
      const tokens = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
      const mask = tf.tensor2d([[1, 1, 1, 0]], [1, 4], 'int32');
      const { hidden } = model.forward(tokens, { attentionMask: mask });
      expect(hidden.shape).toEqual([1, 4, 8]);
      expect(hidden.dataSync().every(Number.isFinite)).toBe(true);
      tf.dispose([tokens, mask, hidden]);
      model.dispose();
    });
  });
});
