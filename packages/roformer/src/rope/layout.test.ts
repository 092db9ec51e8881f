import { describe, expect, it } from 'vitest';
import { headsLayoutPermutation, layoutPermutation, pairIndices } from './layout.js';

describe('RoPE layouts', () => {
  it('pairs adjacent features (interleaved) or features d/2 apart (half), per axial chunk', () => {
    expect(pairIndices(8, 'interleaved')).toEqual({
      first: Int32Array.of(0, 2, 4, 6),
      second: Int32Array.of(1, 3, 5, 7),
    });
    expect(pairIndices(8, 'half')).toEqual({
      first: Int32Array.of(0, 1, 2, 3),
      second: Int32Array.of(4, 5, 6, 7),
    });
    // Two axes of 4 features each: rows use features 0–3, columns 4–7, each split in halves.
    expect(pairIndices(8, 'half', 2)).toEqual({
      first: Int32Array.of(0, 1, 4, 5),
      second: Int32Array.of(2, 3, 6, 7),
    });
    expect(() => pairIndices(6, 'half', 2)).toThrow(
      /rotaryDim = 6 must split into 2 chunk\(s\) of an even number/,
    );
  });

  it('maps interleaved to half as HF’s LLaMA conversion permute does', () => {
    // convert_llama_weights_to_hf.py: w.view(heads, d/2, 2, in).transpose(1, 2): new feature j < d/2
    // takes old feature 2j, and j ≥ d/2 takes 2(j − d/2) + 1.
    const d = 8;
    const want = Int32Array.from({ length: d }, (_, j) =>
      j < d / 2 ? 2 * j : 2 * (j - d / 2) + 1,
    );
    expect(layoutPermutation(d, 'interleaved', 'half')).toEqual(want);
  });

  it('is a bijection that keeps features outside the rotated slice, and half→interleaved inverts it', () => {
    const perm = layoutPermutation(12, 'interleaved', 'half', { startIndex: 3, rotaryDim: 6 });
    expect([...perm].sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
    for (const j of [0, 1, 2, 9, 10, 11]) expect(perm[j]).toBe(j);
    const back = layoutPermutation(12, 'half', 'interleaved', { startIndex: 3, rotaryDim: 6 });
    for (let j = 0; j < 12; j++) expect(perm[back[j]!]).toBe(j);
    expect(() =>
      layoutPermutation(8, 'half', 'interleaved', { startIndex: 4, rotaryDim: 6 }),
    ).toThrow(/startIndex = 4 with rotaryDim = 6 does not fit in headDim = 8/);
  });

  it('repeats the permutation in every head', () => {
    expect(headsLayoutPermutation(2, 4, 'interleaved', 'half')).toEqual(
      Int32Array.of(0, 2, 1, 3, 4, 6, 5, 7),
    );
  });
});
