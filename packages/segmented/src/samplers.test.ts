import { describe, expect, it } from 'vitest';
import { mulberry32 } from '@posenc/core';
import { sampleChunks, samplePrefix, sortedDistinct } from './index.js';

/** Random sampler settings: Lt, α with 1/α whole (chunk) or α·Lt whole (prefix), source, Le. */
function randomCase(next: () => number, method: 'chunk' | 'prefix') {
  const chunks = [1, 2, 4, 8][Math.floor(next() * 4)]!;
  const trainLength = chunks * (1 + Math.floor(next() * 6));
  const alpha =
    method === 'chunk' ? 1 / chunks : (1 + Math.floor(next() * trainLength)) / trainLength;
  const sourceLength = trainLength + Math.floor(next() * 5 * trainLength);
  const extendedLength =
    next() < 0.5 ? undefined : trainLength + Math.floor(next() * 3 * trainLength);
  return { trainLength, alpha, sourceLength, extendedLength, seed: Math.floor(next() * 1e9) };
}

describe('sampleChunks (chunk-α)', () => {
  it('on random sources and α: 1/α contiguous chunks in order, gaps exactly between chunks, inside the source', () => {
    const next = mulberry32(1);
    for (let trial = 0; trial < 500; trial++) {
      const options = randomCase(next, 'chunk');
      const s = sampleChunks(options);
      const { trainLength, alpha, sourceLength, extendedLength } = options;
      const chunkLength = alpha * trainLength;
      expect(s.ids).toHaveLength(trainLength);
      expect(s.chunkLength).toBe(chunkLength);
      expect(s.chunkStarts).toHaveLength(Math.round(1 / alpha));
      expect(s.window).toBe(Math.min(extendedLength ?? sourceLength, sourceLength));
      // Never past the source's end (nor the window's).
      expect(s.offset).toBeGreaterThanOrEqual(0);
      expect(s.offset + s.window).toBeLessThanOrEqual(sourceLength);
      expect(s.ids[0]).toBeGreaterThanOrEqual(0);
      expect(s.ids[trainLength - 1]).toBeLessThan(s.window);
      for (let j = 1; j < trainLength; j++) {
        const step = s.ids[j]! - s.ids[j - 1]!;
        // Strictly increasing; a jump (> 1) only where a chunk ends, by exactly the skipped count.
        expect(step).toBeGreaterThanOrEqual(1);
        if (j % chunkLength !== 0) expect(step).toBe(1);
        else
          expect(step).toBe(
            s.chunkStarts[j / chunkLength]! -
              (s.chunkStarts[j / chunkLength - 1]! + chunkLength - 1),
          );
      }
      // Every chunk is contiguous and starts where chunkStarts says.
      s.chunkStarts.forEach((start, c) => {
        for (let i = 0; i < chunkLength; i++) expect(s.ids[c * chunkLength + i]).toBe(start + i);
      });
    }
  });

  it('is a pure function of its seed', () => {
    const options = {
      sourceLength: 1000,
      trainLength: 16,
      alpha: 0.25,
      extendedLength: 64,
      seed: 42,
    };
    expect(sampleChunks(options)).toEqual(sampleChunks(options));
    const others = new Set(
      Array.from({ length: 20 }, (_, seed) =>
        Array.from(sampleChunks({ ...options, seed }).ids).join(),
      ),
    );
    expect(others.size).toBeGreaterThan(15);
  });

  it('draws every placement of the chunks equally often', () => {
    // Window 6, Lt 4, 2 chunks of 2: the gaps (g0 ≤ g1 ≤ 2) give 6 placements.
    const counts = new Map<string, number>();
    const trials = 12000;
    for (let seed = 0; seed < trials; seed++) {
      const key = sampleChunks({
        sourceLength: 6,
        trainLength: 4,
        alpha: 0.5,
        seed,
      }).chunkStarts.join();
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(['0,2', '0,3', '0,4', '1,3', '1,4', '2,4']);
    for (const c of counts.values()) expect(Math.abs(c / trials - 1 / 6)).toBeLessThan(0.02);
  });

  it('rejects α, lengths and sources that do not fit, naming field and value', () => {
    const base = { sourceLength: 100, trainLength: 16, alpha: 0.25, seed: 0 };
    expect(() => sampleChunks({ ...base, alpha: 0.3 })).toThrow(
      /alpha = 0.3 is not allowed with trainLength = 16; α·Lt = 4.8/,
    );
    expect(() => sampleChunks({ ...base, alpha: 0.375 })).toThrow(
      /1\/α must be a whole number of chunks/,
    );
    expect(() => sampleChunks({ ...base, alpha: 0 })).toThrow(/alpha = 0 .*\(0, 1\]/);
    expect(() => sampleChunks({ ...base, sourceLength: 15 })).toThrow(
      /sourceLength = 15 .*at least trainLength = 16/,
    );
    expect(() => sampleChunks({ ...base, extendedLength: 8 })).toThrow(
      /extendedLength = 8 .*integer ≥ 16/,
    );
    expect(() => sampleChunks({ ...base, seed: 0.5 })).toThrow(/seed = 0.5/);
  });
});

describe('samplePrefix (prefix-α)', () => {
  it('on random sources and α: a sampled prefix before a contiguous suffix, loss mask on the suffix only', () => {
    const next = mulberry32(2);
    for (let trial = 0; trial < 500; trial++) {
      const options = randomCase(next, 'prefix');
      const s = samplePrefix(options);
      const { trainLength, alpha, sourceLength } = options;
      const suffixLength = Math.round(alpha * trainLength);
      const prefixLength = trainLength - suffixLength;
      expect(s.suffixLength).toBe(suffixLength);
      expect(s.offset + s.window).toBeLessThanOrEqual(sourceLength);
      expect(s.ids[trainLength - 1]).toBeLessThan(s.window);
      for (let j = 1; j < trainLength; j++) expect(s.ids[j]).toBeGreaterThan(s.ids[j - 1]!);
      for (let j = 0; j < prefixLength; j++) {
        expect(s.ids[j]).toBeLessThan(s.suffixStart);
        expect(s.lossMask[j]).toBe(0);
      }
      for (let i = 0; i < suffixLength; i++) {
        expect(s.ids[prefixLength + i]).toBe(s.suffixStart + i);
        expect(s.lossMask[prefixLength + i]).toBe(1);
      }
      expect(samplePrefix(options)).toEqual(s);
    }
  });

  it('α = 1 is one contiguous, fully scored sample', () => {
    const s = samplePrefix({ sourceLength: 50, trainLength: 8, alpha: 1, seed: 3 });
    expect(Array.from(s.ids)).toEqual(Array.from({ length: 8 }, (_, i) => s.suffixStart + i));
    expect(Array.from(s.lossMask)).toEqual(new Array(8).fill(1));
  });
});

describe('sortedDistinct', () => {
  it('draws distinct sorted values in range, every value equally often', () => {
    const next = mulberry32(4);
    const counts = new Array(10).fill(0);
    for (let t = 0; t < 5000; t++) {
      const v = sortedDistinct(next, 3, 10);
      expect(new Set(v).size).toBe(3);
      expect([...v].sort((a, b) => a - b)).toEqual(v);
      v.forEach((x) => counts[x]++);
    }
    for (const c of counts) expect(Math.abs(c / 5000 - 0.3)).toBeLessThan(0.03);
    expect(() => sortedDistinct(next, 4, 3)).toThrow(/cannot draw 4 distinct values from 3/);
  });
});
