import { describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { byteTokens, randomWindows, unigramEntropy, windowsAt } from './language-modelling.js';

describe('language-modelling data', () => {
  it('unigram entropy: log(k) for k equiprobable symbols, 0 for one symbol', () => {
    expect(unigramEntropy([1, 2, 3, 4, 1, 2, 3, 4])).toBeCloseTo(Math.log(4), 12);
    expect(unigramEntropy([7, 7, 7])).toBe(0);
    // p = (3/4, 1/4)
    expect(unigramEntropy([0, 0, 0, 1])).toBeCloseTo(
      -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25)),
      12,
    );
  });

  it('byte tokens are UTF-8', () => {
    expect(Array.from(byteTokens('aé'))).toEqual([97, 0xc3, 0xa9]);
  });

  it('windows are contiguous, targets shifted by one, and a pure function of (seed, step)', () => {
    const tokens = Int32Array.from({ length: 500 }, (_, i) => i % 251);
    const a = randomWindows(tokens, 4, 16, 3, 10);
    const b = randomWindows(tokens, 4, 16, 3, 10);
    const c = randomWindows(tokens, 4, 16, 3, 11);
    const [ai, at, bi, ci] = [a.inputs, a.targets, b.inputs, c.inputs].map(
      (t) => t.arraySync() as number[][],
    );
    expect(ai).toEqual(bi);
    expect(ai).not.toEqual(ci);
    ai!.forEach((row, r) => {
      // The stream counts up modulo 251, so contiguity means each next token is v + 1 (mod 251).
      row.forEach((v, i) => {
        expect(at![r]![i]).toBe((v + 1) % 251);
        if (i > 0) expect(v).toBe((row[i - 1]! + 1) % 251);
      });
    });
    expect(() => randomWindows(tokens.subarray(0, 10), 1, 16, 0, 0)).toThrow(
      /10 tokens, fewer than length \+ 1 = 17/,
    );
    tf.dispose([a.inputs, a.targets, b.inputs, b.targets, c.inputs, c.targets]);
  });

  it('random windows are the same from any integer token array', () => {
    const tokens = Int32Array.from({ length: 500 }, (_, i) => (i * 7) % 256);
    const wide = randomWindows(tokens, 4, 16, 9, 3);
    for (const narrow of [Uint8Array.from(tokens), Uint16Array.from(tokens)]) {
      const w = randomWindows(narrow, 4, 16, 9, 3);
      expect(w.inputs.arraySync()).toEqual(wide.inputs.arraySync());
      expect(w.targets.arraySync()).toEqual(wide.targets.arraySync());
      expect(w.tokens).toBe(64);
      tf.dispose([w.inputs, w.targets]);
    }
    tf.dispose([wide.inputs, wide.targets]);
  });

  it('windows at given starts: targets are the inputs shifted by one; a start too late is an error', () => {
    const tokens = Int32Array.from({ length: 20 }, (_, i) => 100 + i);
    const w = windowsAt(tokens, [0, 7, 15], 4);
    expect(w.inputs.arraySync()).toEqual([
      [100, 101, 102, 103],
      [107, 108, 109, 110],
      [115, 116, 117, 118],
    ]);
    expect(w.targets.arraySync()).toEqual([
      [101, 102, 103, 104],
      [108, 109, 110, 111],
      [116, 117, 118, 119],
    ]);
    expect(w.tokens).toBe(12);
    tf.dispose([w.inputs, w.targets]);
    expect(() => windowsAt(tokens, [16], 4)).toThrow(
      'windowsAt: start = 16 is not allowed; a window of 4 + 1 tokens needs an integer start from 0 to 15 (the stream has 20)',
    );
  });
});
