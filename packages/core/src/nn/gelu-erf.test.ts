import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { geluErf } from './gelu-erf.js';
import { activate } from './layers.js';

/**
 * erf in float64: its Maclaurin series where that converges without cancellation (|x| ≤ 3), the
 * continued fraction of erfc beyond (Abramowitz & Stegun 7.1.5 and 7.1.14).
 */
function erf64(x: number): number {
  const a = Math.abs(x);
  if (a <= 3) {
    let sum = 0;
    let term = a;
    for (let n = 0; Math.abs(term) > 1e-18; n++) {
      sum += term / (2 * n + 1);
      term *= (-a * a) / (n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let fraction = a;
  for (let k = 60; k >= 1; k--) fraction = a + k / 2 / fraction;
  return Math.sign(x) * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / fraction);
}

const exact = (x: number) => 0.5 * x * (1 + erf64(x / Math.SQRT2));
const tanhApproximation = (x: number) =>
  0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
/** d/dx x·Φ(x) = Φ(x) + x·φ(x). */
const exactSlope = (x: number) =>
  0.5 * (1 + erf64(x / Math.SQRT2)) + (x * Math.exp((-x * x) / 2)) / Math.sqrt(2 * Math.PI);

const xs = [-9, -6, -3.1, -2.7, -1, -0.37, 0, 1e-4, 0.5, 1, 2.2, 2.7, 3.5, 5, 9];

describe('geluErf', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it("the float64 erf of this test is right on both branches (Python's math.erf)", () => {
    expect(erf64(-0.5)).toBeCloseTo(-0.5204998778130465, 14);
    expect(erf64(1)).toBeCloseTo(0.8427007929497149, 14);
    expect(erf64(3)).toBeCloseTo(0.9999779095030014, 12);
    expect(erf64(3.2)).toBeCloseTo(0.9999939742388483, 14);
    expect(erf64(-4)).toBeCloseTo(-0.9999999845827421, 14);
  });

  it('equals x·Φ(x) in float64 to float32 accuracy', () => {
    const y = tf.tidy(() => Array.from(geluErf(tf.tensor1d(xs)).dataSync()));
    y.forEach((v, i) =>
      expect(Math.abs(v - exact(xs[i]!))).toBeLessThan(1e-6 * Math.max(1, Math.abs(xs[i]!))),
    );
  });

  it('its gradient equals Φ(x) + x·φ(x)', () => {
    const g = tf.tidy(() =>
      Array.from(
        tf
          .grad((v: tf.Tensor) => tf.sum(geluErf(v)))(tf.tensor1d(xs))
          .dataSync(),
      ),
    );
    g.forEach((v, i) => expect(Math.abs(v - exactSlope(xs[i]!))).toBeLessThan(1e-6));
  });

  it("activate: 'gelu_erf' is the exact form and 'gelu' the tanh approximation (4.7e-4 apart at 2.7)", () => {
    const at = (name: 'gelu' | 'gelu_erf') =>
      tf.tidy(() => activate(tf.tensor1d([2.7, -2.7]), name).dataSync()[0]!);
    expect(Math.abs(at('gelu_erf') - exact(2.7))).toBeLessThan(1e-6);
    expect(Math.abs(at('gelu') - tanhApproximation(2.7))).toBeLessThan(1e-6);
    expect(Math.abs(exact(2.7) - tanhApproximation(2.7))).toBeGreaterThan(4e-4);
  });
});
