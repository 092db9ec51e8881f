import { describe, expect, it } from 'vitest';
import { mulberry32 } from '@posenc/core';
import {
  directDft,
  fft,
  fftPlan,
  fftToBitReversed,
  inverseFromBitReversed,
  nextPowerOfTwo,
} from './fft.js';

function randomSignal(n: number, seed: number) {
  const random = mulberry32(seed);
  return {
    re: Float64Array.from({ length: n }, () => 2 * random() - 1),
    im: Float64Array.from({ length: n }, () => 2 * random() - 1),
  };
}

const largest = (a: Float64Array, b: Float64Array) =>
  a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

describe('fft (our kernel) against the direct DFT', () => {
  for (const n of [1, 2, 4, 8, 64, 512]) {
    it(`size ${n}: forward and inverse match the O(N²) sums`, () => {
      const x = randomSignal(n, n);
      for (const inverse of [false, true]) {
        const expected = directDft(x.re, x.im, inverse);
        const re = Float64Array.from(x.re);
        const im = Float64Array.from(x.im);
        fft(re, im, inverse);
        expect(largest(re, expected.re)).toBeLessThan(1e-10 * Math.max(1, n));
        expect(largest(im, expected.im)).toBeLessThan(1e-10 * Math.max(1, n));
      }
    });
  }

  for (const n of [1, 2, 8, 64, 512])
    it(`size ${n}: the bit-reversed forward holds the DFT at reversed slots; its inverse returns x`, () => {
      const x = randomSignal(n, n + 1);
      const expected = directDft(x.re, x.im);
      const { reversed, negated } = fftPlan(n);
      const re = Float64Array.from(x.re);
      const im = Float64Array.from(x.im);
      fftToBitReversed(re, im);
      const natural = (a: Float64Array) => {
        const out = new Float64Array(n);
        reversed.forEach((f, slot) => (out[f] = a[slot]!));
        return out;
      };
      expect(largest(natural(re), expected.re)).toBeLessThan(1e-10 * Math.max(1, n));
      expect(largest(natural(im), expected.im)).toBeLessThan(1e-10 * Math.max(1, n));
      // The slot of −f: X(−f) of a real signal is conj X(f).
      const real = Float64Array.from(x.re);
      const zero = new Float64Array(n);
      fftToBitReversed(real, zero);
      negated.forEach((g, slot) => {
        expect(Math.abs(real[g]! - real[slot]!)).toBeLessThan(1e-9 * Math.max(1, n));
        expect(Math.abs(zero[g]! + zero[slot]!)).toBeLessThan(1e-9 * Math.max(1, n));
      });
      inverseFromBitReversed(re, im);
      expect(largest(re, x.re)).toBeLessThan(1e-12 * Math.max(1, n));
      expect(largest(im, x.im)).toBeLessThan(1e-12 * Math.max(1, n));
    });

  it('inverse(forward(x)) = x at 2¹⁴ points', () => {
    const x = randomSignal(16384, 3);
    const re = Float64Array.from(x.re);
    const im = Float64Array.from(x.im);
    fft(re, im);
    fft(re, im, true);
    expect(largest(re, x.re)).toBeLessThan(1e-12);
    expect(largest(im, x.im)).toBeLessThan(1e-12);
  });

  it('refuses sizes that are not powers of two', () => {
    expect(() => fft(new Float64Array(6), new Float64Array(6))).toThrow(
      /size 6 is not a power of two/,
    );
    expect(nextPowerOfTwo(1025)).toBe(2048);
  });
});
