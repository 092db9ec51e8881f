/**
 * Perplexity per token against hand computations on toy models whose NLL is known in closed form,
 * then with a real DecoderLM against its logits read directly.
 */
import { DecoderLM, createEncoding, initEngine, sequencePositions, tf } from '@posenc/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { decoderScorer } from './decoder-scorer.js';
import { evaluatePerplexity, type WindowScorer } from './perplexity.js';

beforeAll(async () => {
  await initEngine({ engine: 'cpu', log: null });
});

/**
 * A bigram toy model over 3 tokens: p(next | previous) from a fixed table, so the NLL of a target
 * is −ln P[previous][target] whatever the window.
 */
const P = [
  [0.5, 0.25, 0.25],
  [0.1, 0.8, 0.1],
  [0.2, 0.2, 0.6],
];
const bigram: WindowScorer = async ({ inputs, targets }) =>
  Float32Array.from(inputs, (prev, i) => -Math.log(P[prev]![targets[i]!]!));

/** A toy model that is better with more context: NLL = 1 / (tokens of context), i.e. 1/(i+1) at window index i. */
const contextual: WindowScorer = async ({ batch, length }) =>
  Float32Array.from({ length: batch * length }, (_, k) => 1 / ((k % length) + 1));

describe('perplexity per token', () => {
  it('of a bigram model equals exp of the hand-computed mean NLL, in both modes', async () => {
    const segment = Int32Array.from([0, 1, 1, 2, 0, 0]);
    // Targets 1,1,2,0,0 after 0,1,1,2,0: −ln(0.25 · 0.8 · 0.1 · 0.2 · 0.5) over 5 targets.
    const expectedNll = -Math.log(0.25 * 0.8 * 0.1 * 0.2 * 0.5);
    for (const spec of [
      { mode: 'nonoverlapping' as const, length: 2, stride: 2 },
      { mode: 'sliding' as const, length: 4, stride: 1 },
    ]) {
      const r = await evaluatePerplexity([segment], { ...spec, maxBatchTokens: 4 }, bigram);
      expect(r.tokens).toBe(5);
      expect(r.nll).toBeCloseTo(expectedNll, 6);
      expect(r.meanNll).toBeCloseTo(expectedNll / 5, 6);
      expect(r.perplexity).toBeCloseTo(Math.exp(expectedNll / 5), 6);
    }
  });

  it('sums over segments: the first token of each is context only', async () => {
    const a = Int32Array.from([2, 2, 2]);
    const b = Int32Array.from([1, 0]);
    const r = await evaluatePerplexity(
      [a, b],
      { mode: 'nonoverlapping', length: 8, stride: 8, maxBatchTokens: 64 },
      bigram,
    );
    const nll = -2 * Math.log(0.6) - Math.log(0.1);
    expect(r.tokens).toBe(3);
    expect(r.perplexity).toBeCloseTo(Math.exp(nll / 3), 6);
  });

  it('gives each target the context of its mode (hand computation, 10 targets, L = 4)', async () => {
    const segment = new Int32Array(11);
    // Nonoverlapping: blocks of 4, 4, 2 → contexts 1,2,3,4, 1,2,3,4, 1,2.
    const no = await evaluatePerplexity(
      [segment],
      { mode: 'nonoverlapping', length: 4, stride: 4, maxBatchTokens: 8 },
      contextual,
    );
    const noSum = 2 * (1 + 1 / 2 + 1 / 3 + 1 / 4) + (1 + 1 / 2);
    expect(no.tokens).toBe(10);
    expect(no.nll).toBeCloseTo(noSum, 6);
    // Sliding, stride 2: the first window scores contexts 1,2,3,4; the next three score 3,4 each.
    const sw = await evaluatePerplexity(
      [segment],
      { mode: 'sliding', length: 4, stride: 2, maxBatchTokens: 8 },
      contextual,
    );
    const swSum = 1 + 1 / 2 + 1 / 3 + 1 / 4 + 3 * (1 / 3 + 1 / 4);
    expect(sw.tokens).toBe(10);
    expect(sw.nll).toBeCloseTo(swSum, 6);
    expect(sw.perplexity).toBeCloseTo(Math.exp(swSum / 10), 6);
    expect(sw.perplexity).toBeLessThan(no.perplexity);
  });

  it('does not depend on how windows are batched', async () => {
    const segments = [
      Int32Array.from([0, 1, 2, 2, 1, 0, 0, 1, 2]),
      Int32Array.from([2, 1, 0, 1, 2, 0, 1, 1, 0]),
    ];
    const small = await evaluatePerplexity(
      segments,
      { mode: 'sliding', length: 3, stride: 1, maxBatchTokens: 3 },
      bigram,
    );
    const large = await evaluatePerplexity(
      segments,
      { mode: 'sliding', length: 3, stride: 1, maxBatchTokens: 300 },
      bigram,
    );
    expect(small.nll).toBeCloseTo(large.nll, 10);
    expect(small.tokens).toBe(16);
  });

  it('of a DecoderLM equals −log softmax of its logits at positions 0…N−1, without leaking tensors', async () => {
    const model = new DecoderLM(
      { vocabSize: 5, modelDim: 8, layers: 1, heads: 2, maxPositions: 4, seed: 3 },
      [createEncoding({ name: 'learned' })],
    );
    const segment = Int32Array.from([4, 0, 3, 1, 1, 2, 0]);
    const before = tf.memory().numTensors;
    const r = await evaluatePerplexity(
      [segment],
      { mode: 'nonoverlapping', length: 4, stride: 4, maxBatchTokens: 16 },
      decoderScorer(model),
    );
    expect(tf.memory().numTensors).toBe(before);

    // By hand: two blocks [4,0,3,1]→[0,3,1,1] and [1,2]→[2,0], each at positions from 0.
    let nll = 0;
    for (const [inputs, targets] of [
      [
        [4, 0, 3, 1],
        [0, 3, 1, 1],
      ],
      [
        [1, 2],
        [2, 0],
      ],
    ] as const) {
      const positions = sequencePositions(1, inputs.length);
      const x = tf.tensor2d([inputs as unknown as number[]], [1, inputs.length], 'int32');
      const logits = model.forward(x, { positions }).logits;
      const rows = (await logits.array())[0]!;
      rows.forEach((row, i) => {
        const max = Math.max(...row);
        const logSum = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
        nll += logSum - row[targets[i]!]!;
      });
      tf.dispose([positions.ids, x, logits]);
    }
    expect(r.tokens).toBe(6);
    expect(r.nll).toBeCloseTo(nll, 4);
    // Learned positions: a block at other positions would score differently, so positions reached the model.
    model.dispose();
  });
});
