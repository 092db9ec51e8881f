import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32, sequencePositions, tf, tokenNll, type DecoderLM } from '@posenc/core';
import { maxAbsDiff, randomTokens, sharpen, testModel } from '../testing/models.js';
import {
  evaluateNonOverlapping,
  evaluateSlidingWindow,
  evaluateTokenByToken,
  perplexityOf,
  slidingWindows,
} from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const VOCAB = 30;

/** NLL of the prediction at the end of a single pass over `tokens[from … to]` (positions 1…). */
function lastNll(model: DecoderLM, tokens: Int32Array, from: number, to: number): number {
  const n = to - from + 1;
  const inputs = tf.tensor2d(tokens.slice(from, to + 1), [1, n], 'int32');
  const targets = tf.tensor2d(tokens.slice(from + 1, to + 2), [1, n], 'int32');
  const positions = sequencePositions(1, n, 1);
  const value = tf.tidy(
    () => tokenNll(model.forward(inputs, { positions }).logits, targets).dataSync()[n - 1]!,
  );
  tf.dispose([inputs, targets, positions.ids]);
  return value;
}

function sharpModel(layers = 2): DecoderLM {
  const model = testModel([{ name: 'pia' }], { layers, vocabSize: VOCAB });
  sharpen(model, 21, 0.25);
  return model;
}

describe('slidingWindows', () => {
  it('scores every prediction exactly once, each after the first window with ≥ L − S earlier tokens', () => {
    const next = mulberry32(5);
    for (let trial = 0; trial < 300; trial++) {
      const length = 1 + Math.floor(next() * 20);
      const stride = 1 + Math.floor(next() * length);
      const n = 1 + Math.floor(next() * 80);
      const windows = slidingWindows(n, length, stride);
      const scoredBy = new Int32Array(n);
      windows.forEach(({ start, scoreFrom }, w) => {
        expect(start).toBeGreaterThanOrEqual(0);
        expect(start + Math.min(length, n)).toBeLessThanOrEqual(n);
        for (let t = scoreFrom; t < start + Math.min(length, n); t++) {
          scoredBy[t]!++;
          if (w > 0) expect(t - start).toBeGreaterThanOrEqual(length - stride);
        }
      });
      expect(Array.from(scoredBy).every((c) => c === 1)).toBe(true);
    }
  });

  it('rejects a stride outside 1…L', () => {
    expect(() => slidingWindows(10, 4, 5)).toThrow(/stride = 5 .*1 ≤ stride ≤ length = 4/);
    expect(() => slidingWindows(10, 4, 0)).toThrow(/stride = 0 .*integer ≥ 1/);
  });
});

describe('evaluation modes', () => {
  it('perplexity is exp of the mean per-token NLL', () => {
    const r = perplexityOf(Float64Array.from([1, 2, 3]));
    expect(r.meanNll).toBe(2);
    expect(r.perplexity).toBeCloseTo(Math.exp(2), 12);
    expect(() => perplexityOf(new Float64Array(0))).toThrow(/no token was scored/);
  });

  it('nonoverlapping scores each block in its own pass (a short last block included)', () => {
    const model = sharpModel();
    const tokens = randomTokens(24, VOCAB, 1); // 23 predictions: blocks of 6, 6, 6, 5
    const r = evaluateNonOverlapping(model, tokens, { length: 6, batch: 2 });
    expect(r.nll).toHaveLength(23);
    for (const t of [0, 5, 6, 13, 17, 18, 22]) {
      const blockStart = Math.floor(t / 6) * 6;
      expect(r.nll[t]).toBeCloseTo(lastNll(model, tokens, blockStart, t), 5);
    }
    model.dispose();
  });

  it('sliding window scores each token with its window as context; S = L is nonoverlapping', () => {
    const model = sharpModel();
    const tokens = randomTokens(31, VOCAB, 2); // 30 predictions
    const length = 6;
    const stride = 2;
    const r = evaluateSlidingWindow(model, tokens, { length, stride, batch: 3 });
    for (const { start, scoreFrom } of slidingWindows(30, length, stride))
      for (let t = scoreFrom; t < start + length; t++)
        expect(r.nll[t]).toBeCloseTo(lastNll(model, tokens, start, t), 5);
    const nonOverlapping = evaluateNonOverlapping(model, tokens, { length });
    const strideL = evaluateSlidingWindow(model, tokens, { length, stride: length });
    expect(maxAbsDiff(strideL.nll, nonOverlapping.nll)).toBe(0);
    // More context per prediction than nonoverlapping's early tokens get: the scores differ.
    expect(maxAbsDiff(r.nll, nonOverlapping.nll)).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it('sliding window with the cache: each window also sees the states of the L′ tokens before it', () => {
    // One layer: the cached states are normalised embeddings, the same whatever pass made them,
    // so each prediction must equal one pass over [the L′ tokens before its window; the window].
    const model = sharpModel(1);
    const tokens = randomTokens(41, VOCAB, 6); // 40 predictions
    const [length, stride, cacheLength] = [8, 3, 5];
    const r = evaluateSlidingWindow(model, tokens, { length, stride, cacheLength });
    for (const { start, scoreFrom } of slidingWindows(40, length, stride))
      for (let t = scoreFrom; t < start + length; t++)
        expect(r.nll[t]).toBeCloseTo(
          lastNll(model, tokens, Math.max(0, start - cacheLength), t),
          5,
        );
    // The cache changes the scores: without it each window starts afresh.
    const plain = evaluateSlidingWindow(model, tokens, { length, stride });
    expect(maxAbsDiff(r.nll, plain.nll)).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it('sliding window with the cache and S = L is nonoverlapping with the cache', () => {
    const model = sharpModel(2);
    const tokens = randomTokens(31, VOCAB, 7); // 30 predictions: 5 windows of 6
    const length = 6;
    const sliding = evaluateSlidingWindow(model, tokens, {
      length,
      stride: length,
      cacheLength: length,
    });
    const cached = evaluateNonOverlapping(model, tokens, { length, cacheLength: length });
    expect(maxAbsDiff(sliding.nll, cached.nll)).toBeLessThan(1e-5);
    expect(() =>
      evaluateSlidingWindow(model, tokens, { length, stride: 2, cacheLength: -1 }),
    ).toThrow(/cacheLength = -1 .*integer ≥ 0/);
    model.dispose();
  });

  it('token-by-token with the cache gives the same per-token NLL as nonoverlapping with a cache of L', () => {
    const model = sharpModel(2);
    const tokens = randomTokens(30, VOCAB, 3); // 29 predictions: 4 full blocks of 6 and one of 5
    const length = 6;
    const cached = evaluateNonOverlapping(model, tokens, { length, cacheLength: length });
    const byToken = evaluateTokenByToken(model, tokens, { length });
    expect(maxAbsDiff(byToken.nll, cached.nll)).toBeLessThan(1e-5);
    expect(Math.abs(byToken.perplexity - cached.perplexity)).toBeLessThan(1e-4);
    // The cache matters: the first block is as without it, later blocks are not.
    const plain = evaluateNonOverlapping(model, tokens, { length });
    expect(maxAbsDiff(cached.nll.subarray(0, length), plain.nll.subarray(0, length))).toBeLessThan(
      1e-6,
    );
    expect(maxAbsDiff(cached.nll.subarray(length), plain.nll.subarray(length))).toBeGreaterThan(
      1e-3,
    );
    model.dispose();
  });

  it('handles streams shorter than one window', () => {
    const model = sharpModel();
    const tokens = randomTokens(4, VOCAB, 4);
    const a = evaluateNonOverlapping(model, tokens, { length: 8 });
    const b = evaluateSlidingWindow(model, tokens, { length: 8, stride: 3 });
    const c = evaluateTokenByToken(model, tokens, { length: 8 });
    expect(a.nll).toHaveLength(3);
    expect(maxAbsDiff(a.nll, b.nll)).toBe(0);
    expect(maxAbsDiff(a.nll, c.nll)).toBeLessThan(1e-6);
    expect(() => evaluateNonOverlapping(model, Int32Array.of(1), { length: 8 })).toThrow(
      /at least 2 are needed/,
    );
    model.dispose();
  });

  it('leaks no tensors', () => {
    const model = sharpModel();
    const tokens = randomTokens(20, VOCAB, 5);
    const before = tf.memory().numTensors;
    evaluateNonOverlapping(model, tokens, { length: 4 });
    evaluateNonOverlapping(model, tokens, { length: 4, cacheLength: 4 });
    evaluateSlidingWindow(model, tokens, { length: 4, stride: 3 });
    evaluateSlidingWindow(model, tokens, { length: 4, stride: 3, cacheLength: 4 });
    evaluateTokenByToken(model, tokens, { length: 4 });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
