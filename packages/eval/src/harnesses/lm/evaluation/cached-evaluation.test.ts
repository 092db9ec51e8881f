/**
 * The batched cached evaluation against @posenc/shortformer's own `evaluateNonOverlapping`, run
 * one segment at a time: segments side by side as batch rows must give the same NLL.
 */
import { DecoderLM, createEncoding, initEngine, tf } from '@posenc/core';
import { evaluateNonOverlapping, SubsequenceCache } from '@posenc/shortformer';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateWithCache } from './cached-evaluation.js';

beforeAll(async () => {
  await initEngine({ engine: 'cpu', log: null });
});

describe('nonoverlapping evaluation with the cache', () => {
  it("equals the shortformer package's evaluation summed over segments, and leaks nothing", async () => {
    const model = new DecoderLM(
      { vocabSize: 11, modelDim: 16, layers: 2, heads: 2, maxPositions: 8, seed: 5 },
      [createEncoding({ name: 'pia' })],
    );
    const segments = [0, 1, 2].map((k) =>
      Int32Array.from({ length: 22 }, (_, i) => (i * (k + 3) + k) % 11),
    );
    const length = 6;
    let expectedNll = 0;
    for (const s of segments) {
      const r = evaluateNonOverlapping(model, s, { length, cacheLength: length });
      expectedNll += r.meanNll * r.nll.length;
    }
    const before = tf.memory().numTensors;
    const ours = await evaluateWithCache(
      model,
      segments,
      { mode: 'nonoverlapping', length, stride: length, maxBatchTokens: 2 * length * 2 },
      () => new SubsequenceCache({ cacheLength: length }),
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(ours.tokens).toBe(3 * 21);
    expect(ours.nll).toBeCloseTo(expectedNll, 3);
    // The cache changes the figures: without it the blocks are scored independently.
    const uncached = await evaluateWithCache(
      model,
      segments,
      { mode: 'nonoverlapping', length, stride: length, maxBatchTokens: 1000 },
      () => new SubsequenceCache({ cacheLength: 0 }),
    );
    expect(Math.abs(uncached.nll - ours.nll)).toBeGreaterThan(1e-3);
    model.dispose();
  });
});
