import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { layerNorm, layerNormGradient } from './layer-norm.js';

const [rows, features] = [5, 7];
const values = (seed: number, n: number) =>
  Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 3 + (i % 3));

/** The normalisation in float64, row by row. */
function reference(x: number[], gamma: number[], beta: number[], eps: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    const row = x.slice(r * features, (r + 1) * features);
    const mean = row.reduce((a, b) => a + b, 0) / features;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / features;
    row.forEach((v, c) =>
      out.push(((v - mean) / Math.sqrt(variance + eps)) * gamma[c]! + beta[c]!),
    );
  }
  return out;
}

describe('layerNorm (composite TF.js ops)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  const x = values(1, rows * features);
  const gamma = values(2, features);
  const beta = values(3, features);
  const eps = 1e-5;

  it('equals the float64 formula', () => {
    const y = tf.tidy(() =>
      Array.from(
        layerNorm(
          tf.tensor2d(x, [rows, features]),
          tf.tensor1d(gamma),
          tf.tensor1d(beta),
          eps,
        ).dataSync(),
      ),
    );
    const expected = reference(x, gamma, beta, eps);
    y.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
  });

  it('layerNormGradient equals the autodiff gradients of the composite ops', () => {
    const before = tf.memory().numTensors;
    const [analytic, autodiff] = tf.tidy(() => {
      const xt = tf.tensor2d(x, [rows, features]);
      const g = tf.tensor1d(gamma);
      const b = tf.tensor1d(beta);
      const dy = tf.tensor2d(values(4, rows * features), [rows, features]);
      const { mean, variance } = tf.moments(xt, -1, true);
      const invStd = tf.rsqrt(tf.add(variance, eps));
      const { dx, dgamma, dbeta } = layerNormGradient(dy, xt, g, mean, invStd);
      const grads = tf.grads((xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) =>
        tf.sum(tf.mul(layerNorm(xi, gi as tf.Tensor1D, bi as tf.Tensor1D, eps), dy)),
      )([xt, g, b]);
      return [
        [dx, dgamma, dbeta].map((t) => Array.from(t.dataSync())),
        grads.map((t) => Array.from(t.dataSync())),
      ];
    });
    analytic!.forEach((a, i) => a.forEach((v, j) => expect(v).toBeCloseTo(autodiff![i]![j]!, 5)));
    expect(tf.memory().numTensors).toBe(before);
  });
});
