/**
 * The batched cached evaluation against @posenc/shortformer's own `evaluateNonOverlapping` and
 * `evaluateSlidingWindow` with the cache, run one segment at a time: segments side by side as
 * batch rows must give the same NLL in both modes.
 */
import { DecoderLM, createEncoding, initEngine, tf } from '@posenc/core';
import {
  evaluateNonOverlapping,
  evaluateSlidingWindow,
  SubsequenceCache,
} from '@posenc/shortformer';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateWithCache } from './cached-evaluation.js';

beforeAll(async () => {
  await initEngine({ engine: 'cpu', log: null });
});

describe('evaluation with the cache', () => {
  const segments = [0, 1, 2].map((k) =>
    Int32Array.from({ length: 22 }, (_, i) => (i * (k + 3) + k) % 11),
  );
  const length = 6;

  it("equals the shortformer package's evaluations summed over segments in both modes, and leaks nothing", async () => {
    const model = new DecoderLM(
      { vocabSize: 11, modelDim: 16, layers: 2, heads: 2, maxPositions: 8, seed: 5 },
      [createEncoding({ name: 'pia' })],
    );
    for (const [mode, stride] of [
      ['nonoverlapping', length],
      ['sliding', 4],
    ] as const) {
      let expectedNll = 0;
      for (const s of segments) {
        const r =
          mode === 'nonoverlapping'
            ? evaluateNonOverlapping(model, s, { length, cacheLength: length })
            : evaluateSlidingWindow(model, s, { length, stride, cacheLength: length });
        expectedNll += r.meanNll * r.nll.length;
      }
      const before = tf.memory().numTensors;
      const ours = await evaluateWithCache(
        model,
        segments,
        { mode, length, stride, maxBatchTokens: 2 * length * 2 },
        () => new SubsequenceCache({ cacheLength: length }),
      );
      expect(tf.memory().numTensors).toBe(before);
      expect(ours.tokens).toBe(3 * 21);
      expect(ours.nll).toBeCloseTo(expectedNll, 3);
      // The cache changes the figures: without it the windows are scored independently.
      const uncached = await evaluateWithCache(
        model,
        segments,
        { mode, length, stride, maxBatchTokens: 1000 },
        () => new SubsequenceCache({ cacheLength: 0 }),
      );
      expect(Math.abs(uncached.nll - ours.nll)).toBeGreaterThan(1e-3);
    }
    model.dispose();
  });

  it('starts each segment with the context before it cached: the one-stream evaluation of [context; segment], less the context block', async () => {
    const model = new DecoderLM(
      { vocabSize: 11, modelDim: 16, layers: 2, heads: 2, maxPositions: 8, seed: 7 },
      [createEncoding({ name: 'pia' })],
    );
    // Longer contexts than L′ are cut to their last L′ tokens; the first segment has none.
    const contexts = [0, 9, 7].map((n, k) =>
      Int32Array.from({ length: n }, (_, i) => (i * 5 + k) % 11),
    );
    let expectedNll = 0;
    segments.forEach((segment, k) => {
      const context = contexts[k]!.subarray(-length);
      const stream = Int32Array.from([...context, ...segment]);
      const r = evaluateNonOverlapping(model, stream, { length, cacheLength: length });
      // The context is one block (or none) ahead: the segment's targets are the rest.
      for (let i = context.length; i < r.nll.length; i++) expectedNll += r.nll[i]!;
    });
    const spec = { length, stride: length, maxBatchTokens: 1000 };
    const create = () => new SubsequenceCache({ cacheLength: length });
    const before = tf.memory().numTensors;
    const ours = await evaluateWithCache(
      model,
      segments,
      { ...spec, mode: 'nonoverlapping' },
      create,
      contexts,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(ours.tokens).toBe(3 * 21);
    // float32 sums in other orders: equal to a relative 1e-5
    expect(Math.abs(ours.nll - expectedNll) / expectedNll).toBeLessThan(1e-5);
    const withoutContext = await evaluateWithCache(
      model,
      segments,
      { ...spec, mode: 'nonoverlapping' },
      create,
    );
    expect(Math.abs(withoutContext.nll - ours.nll)).toBeGreaterThan(1e-3);
    // Sliding windows with a stride of L are the blocks again, context included.
    const sliding = await evaluateWithCache(
      model,
      segments,
      { ...spec, mode: 'sliding' },
      create,
      contexts,
    );
    expect(Math.abs(sliding.nll - ours.nll) / ours.nll).toBeLessThan(1e-5);
    await expect(
      evaluateWithCache(model, segments, { ...spec, mode: 'sliding' }, create, contexts.slice(1)),
    ).rejects.toThrow(/2 contexts for 3 segments/);
    model.dispose();
  });
});
