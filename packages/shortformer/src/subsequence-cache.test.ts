import { beforeAll, describe, expect, it } from 'vitest';
import {
  sequencePositions,
  stopGradient,
  tf,
  tokenCrossEntropy,
  type DecoderLM,
} from '@posenc/core';
import { maxAbsDiff, randomTokens, sharpen, testModel } from './testing/models.js';
import { SubsequenceCache, windowPositions } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const VOCAB = 50;

function tokensOf(values: Int32Array, batch: number): tf.Tensor2D {
  return tf.tensor2d(values, [batch, values.length / batch], 'int32');
}

/** Logits of one pass over `tokens` at positions first…first+N−1, sliced to the last `keep` tokens. */
function onePass(model: DecoderLM, tokens: tf.Tensor2D, keep: number, first = 1): Float32Array {
  const [batch, n] = tokens.shape;
  const positions = sequencePositions(batch, n, first);
  const out = tf.tidy(() => model.forward(tokens, { positions }).logits.slice([0, n - keep, 0]));
  const values = out.dataSync() as Float32Array;
  tf.dispose([out, positions.ids]);
  return values;
}

function cachedLogits(
  cache: SubsequenceCache,
  model: DecoderLM,
  tokens: tf.Tensor2D,
): Float32Array {
  const logits = cache.forward(model, tokens);
  const values = logits.dataSync() as Float32Array;
  logits.dispose();
  return values;
}

describe('windowPositions', () => {
  it('labels the cache 1…L′ and the current tokens L′+1…L′+L', () => {
    const { memoryPositions, positions } = windowPositions(2, 3, 4);
    expect(memoryPositions!.ids.arraySync()).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
    expect(positions.ids.arraySync()).toEqual([
      [4, 5, 6, 7],
      [4, 5, 6, 7],
    ]);
    tf.dispose([memoryPositions!.ids, positions.ids]);
    const empty = windowPositions(1, 0, 2, 0);
    expect(empty.memoryPositions).toBeUndefined();
    expect(empty.positions.ids.arraySync()).toEqual([[0, 1]]);
    empty.positions.ids.dispose();
    expect(() => windowPositions(1, -1, 2)).toThrow(/cached = -1 .*integer ≥ 0/);
  });
});

describe('SubsequenceCache', () => {
  it('logits with the cache equal one pass over [cache; current] with the same positions and masks', () => {
    const model = testModel([{ name: 'pia' }], { layers: 2 });
    sharpen(model, 11);
    const length = 6;
    const batch = 2;
    const stream = randomTokens(batch * 2 * length, VOCAB, 1);
    // Row b of the stream is [previous | current].
    const previous = tokensOf(
      Int32Array.from(
        { length: batch * length },
        (_, i) => stream[Math.floor(i / length) * 2 * length + (i % length)]!,
      ),
      batch,
    );
    const current = tokensOf(
      Int32Array.from(
        { length: batch * length },
        (_, i) => stream[Math.floor(i / length) * 2 * length + length + (i % length)]!,
      ),
      batch,
    );
    const both = tokensOf(stream, batch);
    const cache = new SubsequenceCache({ cacheLength: length });
    cache.forward(model, previous).dispose();
    expect(cache.cachedTokens).toBe(length);
    const withCache = cachedLogits(cache, model, current);
    const reference = onePass(model, both, length);
    expect(maxAbsDiff(withCache, reference)).toBeLessThan(1e-5);
    // Not trivially: without the cache (positions 1…L) the logits are far from these.
    const alone = onePass(model, current, length);
    expect(maxAbsDiff(alone, reference)).toBeGreaterThan(1e-2);
    cache.dispose();
    tf.dispose([previous, current, both]);
    model.dispose();
  });

  it('relabels positions at every step: the old current tokens become the cache at 1…L', () => {
    // With one layer the cached states are the normalised embeddings, which carry no position
    // under PIA, so every later step must also equal a single pass over [cache; current].
    const model = testModel([{ name: 'pia' }], { layers: 1 });
    sharpen(model, 12);
    const length = 5;
    const steps = randomTokens(4 * length, VOCAB, 2);
    const chunk = (i: number): tf.Tensor2D =>
      tokensOf(steps.slice(i * length, (i + 1) * length), 1);
    const cache = new SubsequenceCache({ cacheLength: length });
    cache.forward(model, chunk(0)).dispose();
    for (let i = 1; i < 4; i++) {
      const current = chunk(i);
      const got = cachedLogits(cache, model, current);
      const both = tokensOf(steps.slice((i - 1) * length, (i + 1) * length), 1);
      expect(maxAbsDiff(got, onePass(model, both, length))).toBeLessThan(1e-5);
      // With absolute stream positions instead (cache at (i−1)L+1…), the logits differ.
      if (i > 1)
        expect(maxAbsDiff(got, onePass(model, both, length, (i - 1) * length + 1))).toBeGreaterThan(
          1e-3,
        );
      tf.dispose([current, both]);
    }
    cache.dispose();
    model.dispose();
  });

  it('keeps the last L′ states of [cache; current] when L′ differs from L', () => {
    const model = testModel([{ name: 'pia' }], { layers: 1 });
    sharpen(model, 13);
    const stream = randomTokens(12, VOCAB, 3);
    const part = (from: number, to: number): tf.Tensor2D => tokensOf(stream.slice(from, to), 1);
    // L′ = 3 < L = 4: the next step sees the last 3 tokens of the previous one.
    const short = new SubsequenceCache({ cacheLength: 3 });
    short.forward(model, part(0, 4)).dispose();
    expect(short.cachedTokens).toBe(3);
    const a = part(4, 8);
    const ref = part(1, 8);
    expect(maxAbsDiff(cachedLogits(short, model, a), onePass(model, ref, 4))).toBeLessThan(1e-5);
    // L′ = 6 > L = 4: after two steps the cache spans both of them (the last 6 tokens).
    const long = new SubsequenceCache({ cacheLength: 6 });
    long.forward(model, part(0, 4)).dispose();
    expect(long.cachedTokens).toBe(4);
    long.forward(model, part(4, 8)).dispose();
    expect(long.cachedTokens).toBe(6);
    const b = part(8, 12);
    const ref2 = part(2, 12);
    expect(maxAbsDiff(cachedLogits(long, model, b), onePass(model, ref2, 4))).toBeLessThan(1e-5);
    short.dispose();
    long.dispose();
    tf.dispose([a, ref, b, ref2]);
    model.dispose();
  });

  it('with nextStart keeps the L′ states before the next subsequence (overlapping windows)', () => {
    const model = testModel([{ name: 'pia' }], { layers: 1 });
    sharpen(model, 15);
    const stream = randomTokens(14, VOCAB, 11);
    const part = (from: number, to: number): tf.Tensor2D => tokensOf(stream.slice(from, to), 1);
    // Windows [0, 6) and [4, 10) overlap: the second must see tokens 1…3 as its cache (L′ = 3).
    const cache = new SubsequenceCache({ cacheLength: 3 });
    cache.forward(model, part(0, 6), { nextStart: 4 }).dispose();
    expect(cache.cachedTokens).toBe(3);
    const window = part(4, 10);
    const reference = part(1, 10);
    expect(
      maxAbsDiff(cachedLogits(cache, model, window), onePass(model, reference, 6)),
    ).toBeLessThan(1e-5);
    // nextStart 0 keeps the cache as it was: the same window scores the same again.
    const again = cache.forward(model, window, { nextStart: 0 });
    again.dispose();
    expect(cache.cachedTokens).toBe(3);
    expect(() => cache.forward(model, window, { nextStart: 7 })).toThrow(
      /nextStart = 7 .*from 0 to the 6 tokens given/,
    );
    cache.dispose();
    tf.dispose([window, reference]);
    model.dispose();
  });

  it('passes no gradient into the cached states (they are stop-gradient copies)', () => {
    const model = testModel([{ name: 'pia' }], { layers: 2 });
    sharpen(model, 14, 0.2);
    const stream = randomTokens(16, VOCAB, 4);
    const previous = tokensOf(stream.slice(0, 8), 1);
    const current = tokensOf(stream.slice(8, 16), 1);
    const targets = tokensOf(randomTokens(8, VOCAB, 5), 1);
    const parameters = Object.values(model.parameters());
    const gradsOf = (fill: 'inside' | 'outside'): Float32Array[] => {
      const cache = new SubsequenceCache({ cacheLength: 8 });
      if (fill === 'outside') cache.forward(model, previous).dispose();
      const { value, grads } = tf.variableGrads(() => {
        // Filling the cache on the same gradient tape must not let gradients flow into it.
        if (fill === 'inside') cache.forward(model, previous);
        return tokenCrossEntropy(cache.forward(model, current), targets);
      }, parameters);
      const out = parameters.map((p) => grads[p.name]!.dataSync() as Float32Array);
      tf.dispose([value, ...Object.values(grads)]);
      cache.dispose();
      return out;
    };
    const inside = gradsOf('inside');
    const outside = gradsOf('outside');
    inside.forEach((g, i) => expect(maxAbsDiff(g, outside[i]!)).toBeLessThan(1e-6));
    // And the gradient through a plain (not stopped) copy is not zero, so the check above can fail.
    const x = tf.variable(tf.tensor1d([1, 2, 3]));
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(stopGradient(x), x)) as tf.Scalar, [x]);
    expect(Array.from(grads[x.name]!.dataSync())).toEqual([1, 2, 3]);
    tf.dispose([x, ...Object.values(grads), previous, current, targets]);
    model.dispose();
  });

  it('drops the cache when the batch size changes and on clear()', () => {
    const model = testModel([{ name: 'pia' }], { layers: 2 });
    const cache = new SubsequenceCache({ cacheLength: 4 });
    const two = tokensOf(randomTokens(8, VOCAB, 6), 2);
    const one = tokensOf(randomTokens(4, VOCAB, 7), 1);
    cache.forward(model, two).dispose();
    expect(cache.layerStates.map((s) => s.shape)).toEqual([
      [2, 4, 32],
      [2, 4, 32],
    ]);
    // A smaller last batch: the cache is dropped, so the result equals an uncached pass.
    const got = cachedLogits(cache, model, one);
    expect(maxAbsDiff(got, onePass(model, one, 4))).toBe(0);
    expect(cache.layerStates[0]!.shape).toEqual([1, 4, 32]);
    cache.clear();
    expect(cache.cachedTokens).toBe(0);
    expect(cache.layerStates).toEqual([]);
    cache.dispose();
    tf.dispose([two, one]);
    model.dispose();
  });

  it('rejects a bad cache length and a model with another layer count', () => {
    expect(() => new SubsequenceCache({ cacheLength: 1.5 })).toThrow(
      /cacheLength = 1.5 .*integer ≥ 0/,
    );
    const a = testModel([{ name: 'pia' }], { layers: 2 });
    const b = testModel([{ name: 'pia' }], { layers: 1 });
    const cache = new SubsequenceCache({ cacheLength: 2 });
    const t = tokensOf(randomTokens(2, VOCAB, 8), 1);
    cache.forward(a, t).dispose();
    expect(() => cache.forward(b, t)).toThrow(/holds 2 layers' states but the model has 1 layers/);
    cache.dispose();
    t.dispose();
    a.dispose();
    b.dispose();
  });

  it('leaks no tensors over many steps, inside and outside gradient tapes', () => {
    const model = testModel([{ name: 'pia' }], { layers: 2 });
    const t = tokensOf(randomTokens(8, VOCAB, 9), 2);
    const targets = tokensOf(randomTokens(8, VOCAB, 10), 2);
    const parameters = Object.values(model.parameters());
    const before = tf.memory().numTensors;
    const cache = new SubsequenceCache({ cacheLength: 4 });
    for (let step = 0; step < 3; step++) {
      const { value, grads } = tf.variableGrads(
        () => tokenCrossEntropy(cache.forward(model, t, { training: true }), targets),
        parameters,
      );
      tf.dispose([value, ...Object.values(grads)]);
      cache.forward(model, t).dispose();
    }
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([t, targets]);
    model.dispose();
  });
});
