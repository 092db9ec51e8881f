import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { gelu, geluGradient } from './gelu.js';

/** The tanh approximation in float64. */
const reference = (x: number) =>
  0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

const xs = [-6, -3.1, -1, -0.37, 0, 1e-4, 0.5, 1, 2.2, 5, 9];

describe('gelu (composite TF.js ops)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('equals the tanh approximation', () => {
    const y = tf.tidy(() => Array.from(gelu(tf.tensor1d(xs)).dataSync()));
    y.forEach((v, i) => expect(v).toBeCloseTo(reference(xs[i]!), 6));
  });

  it('geluGradient equals central differences of the float64 formula', () => {
    const dy = xs.map((_, i) => 0.5 + i / 10);
    const g = tf.tidy(() => Array.from(geluGradient(tf.tensor1d(dy), tf.tensor1d(xs)).dataSync()));
    const h = 1e-6;
    g.forEach((v, i) => {
      const fd = (reference(xs[i]! + h) - reference(xs[i]! - h)) / (2 * h);
      expect(v).toBeCloseTo(dy[i]! * fd, 5);
    });
  });

  it('geluGradient equals the autodiff gradient of the composite ops', () => {
    const [analytic, autodiff] = tf.tidy(() => {
      const x = tf.tensor1d(xs);
      const dy = tf.tensor1d(xs.map((_, i) => 1 - i / 7));
      return [
        Array.from(geluGradient(dy, x).dataSync()),
        Array.from(
          tf
            .grad((v: tf.Tensor) => tf.sum(tf.mul(gelu(v), dy)))(x)
            .dataSync(),
        ),
      ];
    });
    analytic!.forEach((v, i) => expect(v).toBeCloseTo(autodiff![i]!, 6));
  });
});
