import { afterAll, describe, expect, it } from 'vitest';
import { uniform } from '../testing/random.js';
import { rotateValues, type RotaryAttributes } from './rotary-kernel.js';
import { setSimdRotation, simdApplies, simdRotationAvailable } from './simd-rotation.js';

afterAll(() => setSimdRotation(true));

interface Case {
  shape: number[];
  pairs: number;
  tableBatch: number;
  attributes: RotaryAttributes;
}

const cases: [string, Case][] = [
  [
    'interleaved, full, shared table',
    {
      shape: [2, 3, 5, 8],
      pairs: 4,
      tableBatch: 1,
      attributes: { layout: 'interleaved', startIndex: 0, chunks: 1, transpose: false },
    },
  ],
  [
    'interleaved, partial at an odd start, transposed, per-row tables',
    {
      shape: [2, 2, 3, 11],
      pairs: 4,
      tableBatch: 2,
      attributes: { layout: 'interleaved', startIndex: 1, chunks: 1, transpose: true },
    },
  ],
  [
    'half, full',
    {
      shape: [1, 2, 4, 16],
      pairs: 8,
      tableBatch: 1,
      attributes: { layout: 'half', startIndex: 0, chunks: 1, transpose: false },
    },
  ],
  [
    'half, axial chunks, partial, transposed, [B,N,D]',
    {
      shape: [3, 7, 20],
      pairs: 8,
      tableBatch: 3,
      attributes: { layout: 'half', startIndex: 2, chunks: 2, transpose: true },
    },
  ],
];

describe('the SIMD rotation', () => {
  it('is available on this Node', () => {
    expect(simdRotationAvailable()).toBe(true);
  });

  it.each(cases)('agrees bit for bit with the JS loop (%s)', (_name, c) => {
    expect(simdApplies(c.pairs, c.attributes)).toBe(true);
    const size = c.shape.reduce((a, b) => a * b);
    const length = c.shape[c.shape.length - 2]!;
    const x = uniform(1, size, -3, 3);
    const cos = uniform(2, c.tableBatch * length * c.pairs);
    const sin = uniform(3, c.tableBatch * length * c.pairs);
    setSimdRotation(true);
    const simd = rotateValues(x, c.shape, cos, sin, c.tableBatch, c.pairs, c.attributes);
    setSimdRotation(false);
    const js = rotateValues(x, c.shape, cos, sin, c.tableBatch, c.pairs, c.attributes);
    setSimdRotation(true);
    expect(simd).toEqual(js);
    // Features outside the rotated slice are copied through; inside, values changed.
    const dim = c.shape[c.shape.length - 1]!;
    const { startIndex } = c.attributes;
    for (let i = 0; i < size; i++) {
      const f = i % dim;
      if (f < startIndex || f >= startIndex + 2 * c.pairs) expect(simd[i]).toBe(x[i]);
    }
    expect(simd.some((v, i) => v !== x[i])).toBe(true);
  });

  it('leaves slices that are not whole vectors to the JS loop', () => {
    expect(
      simdApplies(3, { layout: 'interleaved', startIndex: 0, chunks: 1, transpose: false }),
    ).toBe(false);
    expect(simdApplies(4, { layout: 'half', startIndex: 0, chunks: 2, transpose: false })).toBe(
      false,
    );
  });
});
