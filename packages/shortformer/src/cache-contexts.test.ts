/**
 * The diagnostic contexts of `shortformerTraining` (`fresh-cache`, `window`): each must be the
 * computation it claims, or a table built on them would measure something else.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { sequencePositions, tf, tokenCrossEntropy, train, type DecoderLM } from '@posenc/core';
import { maxAbsDiff, randomTokens, sharpen, testModel } from './testing/models.js';
import {
  shortformerTraining,
  StagedSchedule,
  SubsequenceCache,
  type CacheContext,
  type ShortformerBatch,
} from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const VOCAB = 40;
const LENGTH = 4;

/** One stage of L = 4 with L′ = cacheLength, 2 rows per batch. */
function oneStage(cacheLength = LENGTH, totalSteps = 4): StagedSchedule {
  return new StagedSchedule({
    stages: [{ length: LENGTH, share: 1, cacheLength }],
    tokensPerBatch: 2 * LENGTH,
    totalSteps,
  });
}

function setUp(context: CacheContext, cacheLength = LENGTH) {
  const model = testModel([{ name: 'pia' }], { vocabSize: VOCAB, modelDim: 16, heads: 2 });
  sharpen(model, 21);
  // 2 rows of 100 tokens: an epoch is 24 steps, so no step here clears the cache.
  const tokens = randomTokens(200, VOCAB, 7);
  const plan = shortformerTraining({ model, tokens, schedule: oneStage(cacheLength), context });
  return { model, plan };
}

const stepContext = (step: number) => ({ step, micro: 0, seed: 0 });

function lossValue(
  plan: ReturnType<typeof shortformerTraining>,
  batch: ShortformerBatch,
  step: number,
) {
  const loss = plan.loss(batch, stepContext(step));
  const value = loss.dataSync()[0]!;
  loss.dispose();
  return value;
}

/** Loss and gradients of one pass over [`before`; batch] at positions 1…, scored on the batch. */
function onePass(model: DecoderLM, before: tf.Tensor2D, batch: ShortformerBatch) {
  const trainable = Object.values(model.parameters());
  return tf.variableGrads(() => {
    const inputs = tf.concat([before, batch.inputs], 1) as tf.Tensor2D;
    const [rows, total] = inputs.shape;
    const positions = sequencePositions(rows, total, 1);
    const logits = model.forward(inputs, { positions }).logits;
    const own = logits.slice([0, total - LENGTH, 0], [-1, LENGTH, -1]) as tf.Tensor3D;
    return tokenCrossEntropy(own, batch.targets);
  }, trainable);
}

function gradientsOf(
  plan: ReturnType<typeof shortformerTraining>,
  model: DecoderLM,
  batch: ShortformerBatch,
  step: number,
) {
  return tf.variableGrads(
    () => plan.loss(batch, stepContext(step)),
    Object.values(model.parameters()),
  );
}

/** Largest gradient difference, matched by parameter name (two models' variables differ in name). */
function maxGradientDiff(
  a: { model: DecoderLM; grads: tf.NamedTensorMap },
  b: { model: DecoderLM; grads: tf.NamedTensorMap },
): number {
  const pb = b.model.parameters();
  return Math.max(
    ...Object.entries(a.model.parameters()).map(([name, variable]) =>
      maxAbsDiff(a.grads[variable.name]!.dataSync(), b.grads[pb[name]!.name]!.dataSync()),
    ),
  );
}

const disposeBatch = (b: ShortformerBatch) => tf.dispose([b.inputs, b.targets]);

describe("shortformerTraining's context", () => {
  it("'window': one pass over the previous L′ tokens and the current ones, with full gradient", () => {
    const { model, plan } = setUp('window', 2);
    const first = plan.batchAt(0, 0);
    const second = plan.batchAt(1, 0);
    lossValue(plan, first, 0);
    const before = first.inputs.slice([0, LENGTH - 2], [-1, 2]);
    const reference = onePass(model, before, second);
    const windowed = gradientsOf(plan, model, second, 1);
    expect(Math.abs(windowed.value.dataSync()[0]! - reference.value.dataSync()[0]!)).toBeLessThan(
      1e-6,
    );
    expect(
      maxGradientDiff({ model, grads: windowed.grads }, { model, grads: reference.grads }),
    ).toBeLessThan(1e-6);

    // With L′ = L the cache gives the same loss (the states of the previous subsequence saw the
    // same tokens), but it stops the gradient into those states: its gradient is not the full one.
    const full = setUp('window');
    const cached = setUp('cache');
    for (const p of [full.plan, cached.plan]) lossValue(p, first, 0);
    const undetached = gradientsOf(full.plan, full.model, second, 1);
    const detached = gradientsOf(cached.plan, cached.model, second, 1);
    expect(Math.abs(detached.value.dataSync()[0]! - undetached.value.dataSync()[0]!)).toBeLessThan(
      1e-6,
    );
    expect(
      maxGradientDiff(
        { model: cached.model, grads: detached.grads },
        { model: full.model, grads: undetached.grads },
      ),
    ).toBeGreaterThan(1e-4);

    for (const g of [reference, windowed, undetached, detached])
      tf.dispose([g.value, ...Object.values(g.grads)]);
    before.dispose();
    [first, second].forEach(disposeBatch);
    for (const s of [{ model, plan }, full, cached]) {
      s.plan.dispose();
      s.model.dispose();
    }
  });

  it("'fresh-cache': the previous subsequence's states under the current weights, not the previous step's", () => {
    const fresh = setUp('fresh-cache');
    const stale = setUp('cache');
    const batches = [0, 1, 2].map((s) => fresh.plan.batchAt(s, 0));
    for (const { model, plan } of [fresh, stale]) {
      lossValue(plan, batches[0]!, 0);
      sharpen(model, 99); // the weights change between steps 0 and 1, as an update changes them
    }
    const freshLoss = [lossValue(fresh.plan, batches[1]!, 1)];
    const staleLoss = lossValue(stale.plan, batches[1]!, 1);

    // What a cache built now, under the current weights, gives for the same chain of subsequences.
    const chain = (model: DecoderLM, upTo: number): number => {
      const cache = new SubsequenceCache({ cacheLength: LENGTH });
      for (let s = 0; s < upTo; s++) cache.forward(model, batches[s]!.inputs).dispose();
      const value = tf.tidy(
        () =>
          tokenCrossEntropy(
            cache.forward(model, batches[upTo]!.inputs),
            batches[upTo]!.targets,
          ).dataSync()[0]!,
      );
      cache.dispose();
      return value;
    };
    expect(Math.abs(freshLoss[0]! - chain(fresh.model, 1))).toBeLessThan(1e-6);
    // The paper's cache still holds step 0's states, computed under the old weights.
    expect(Math.abs(staleLoss - chain(stale.model, 1))).toBeGreaterThan(1e-3);
    // Without a weight change in between, the refreshed chain goes on like a cache built now.
    freshLoss.push(lossValue(fresh.plan, batches[2]!, 2));
    expect(Math.abs(freshLoss[1]! - chain(fresh.model, 2))).toBeLessThan(1e-6);

    batches.forEach(disposeBatch);
    for (const { model, plan } of [fresh, stale]) {
      plan.dispose();
      model.dispose();
    }
  });

  it.each(['fresh-cache', 'window'] as const)(
    "'%s' trains through an epoch boundary and leaks no tensors",
    async (context) => {
      const model = testModel([{ name: 'pia' }], { vocabSize: VOCAB, modelDim: 16, heads: 2 });
      // 2 rows of 12 tokens: an epoch is 2 steps, so steps 2 and 4 start over without context.
      const tokens = randomTokens(24, VOCAB, 8);
      const plan = shortformerTraining({ model, tokens, schedule: oneStage(LENGTH, 5), context });
      const before = tf.memory().numTensors;
      const result = await train({
        parameters: model.parameters(),
        steps: 5,
        batchAt: plan.batchAt,
        loss: plan.loss,
        optimizer: { lr: 1e-2 },
      });
      expect(result.lossHistory).toHaveLength(5);
      expect(result.lossHistory.every(Number.isFinite)).toBe(true);
      plan.dispose();
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    },
  );

  it('refuses an unknown context and a diagnostic context without a cache', () => {
    const model = testModel([{ name: 'pia' }], { vocabSize: VOCAB });
    const tokens = randomTokens(200, VOCAB, 9);
    expect(() =>
      shortformerTraining({
        model,
        tokens,
        schedule: oneStage(),
        context: 'fresh' as CacheContext,
      }),
    ).toThrow(/context = "fresh" is not allowed; expected one of cache, fresh-cache, window/);
    expect(() =>
      shortformerTraining({ model, tokens, schedule: oneStage(0), context: 'window' }),
    ).toThrow(/context = 'window' is not allowed without a cache; every stage has cacheLength 0/);
    model.dispose();
  });
});
