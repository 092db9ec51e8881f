/**
 * The reference decoding on hand-made logits: n-best starts and ends within the context, the
 * length limit, the best span across windows mapped to the context's characters, and SQuAD
 * 2.0's null answer with its threshold.
 */
import { describe, expect, it } from 'vitest';
import type { Feature, TokenizedExample } from './data/features.js';
import { decodeAnswer } from './postprocess.js';

// Context "ab cd ef gh" as one token per character; a window is [CLS] q [SEP] ctx… [SEP].
const context = 'ab cd ef gh';
const tokenized: TokenizedExample = {
  question: [1],
  context: {
    ids: [...context].map((c) => c.charCodeAt(0)),
    starts: [...context].map((_, i) => i),
    ends: [...context].map((_, i) => i + 1),
  },
};
function window(windowStart: number, windowLength: number): Feature {
  return {
    example: 0,
    ids: [],
    tokenTypes: [],
    positions: [],
    contextOffset: 3,
    windowStart,
    windowLength,
    start: 0,
    end: 0,
  };
}
/** Logits of a window of `n` tokens: `peaks` maps an index to its value, the rest are 0. */
const logits = (n: number, peaks: Record<number, number>) =>
  Float32Array.from({ length: n }, (_, i) => peaks[i] ?? 0);

describe('SQuAD decoding', () => {
  it('takes the best start + end over the windows and maps it to characters', () => {
    const w1 = window(0, 6); // context chars 0…5 at indices 3…8
    const w2 = window(4, 7); // context chars 4…10 at indices 3…9
    const decoded = decodeAnswer(
      context,
      tokenized,
      [
        { feature: w1, start: logits(10, { 3: 2 }), end: logits(10, { 4: 2 }) }, // "ab": 4
        { feature: w2, start: logits(11, { 5: 3 }), end: logits(11, { 7: 3 }) }, // chars 6…8 "ef ": 6
      ],
      { nBest: 5, maxAnswerLength: 30 },
    );
    expect(decoded.text).toBe('ef ');
    expect(decoded.chars).toEqual([6, 9]);
  });

  it('never ends before it starts, never exceeds the answer length, never leaves the context', () => {
    const w = window(0, 11);
    const start = logits(15, { 0: 50, 1: 50, 8: 5, 3: 4 });
    const end = logits(15, { 0: 50, 14: 50, 4: 5, 12: 4 });
    // [CLS], the question and the final [SEP] (index 14) are out; end 4 < start 8 is out;
    // start 8 → end 12 is 5 tokens, over the limit of 3; so start 3 → end 4 ("ab").
    const decoded = decodeAnswer(context, tokenized, [{ feature: w, start, end }], {
      nBest: 20,
      maxAnswerLength: 3,
    });
    expect(decoded.text).toBe('ab');
  });

  it('n-best: only the top starts and ends are paired', () => {
    const w = window(0, 11);
    const start = logits(15, { 3: 1, 8: 2 });
    const end = logits(15, { 4: 9, 9: 1 });
    const decode = (nBest: number) =>
      decodeAnswer(context, tokenized, [{ feature: w, start, end }], {
        nBest,
        maxAnswerLength: 30,
      });
    // Top 1: start 8 and end 4 only, which is no span; top 2 pairs 3 → 4 (score 10).
    expect(decode(1).text).toBe('');
    expect(decode(1).chars).toBeUndefined();
    expect(decode(2).text).toBe('ab');
  });

  it('SQuAD 2.0: "" when the null score beats the best span by more than the threshold', () => {
    const w = window(0, 11);
    const start = logits(15, { 0: 4, 3: 1 });
    const end = logits(15, { 0: 4, 4: 1 });
    const spec = { nBest: 5, maxAnswerLength: 30 };
    expect(decodeAnswer(context, tokenized, [{ feature: w, start, end }], spec).text).toBe('ab');
    const v2 = decodeAnswer(context, tokenized, [{ feature: w, start, end }], {
      ...spec,
      nullThreshold: 0,
    });
    expect(v2.text).toBe('');
    expect(v2.nullOdds).toBe(6);
    expect(
      decodeAnswer(context, tokenized, [{ feature: w, start, end }], { ...spec, nullThreshold: 6 })
        .text,
    ).toBe('ab');
  });
});
