import { beforeAll, describe, expect, it } from 'vitest';
import {
  randomWindows,
  stepSeed,
  tf,
  tokenCrossEntropy,
  Trainer,
  windowsAt,
  type DecoderLM,
} from '@posenc/core';
import { maxAbsDiff, randomTokens, testModel } from './testing/models.js';
import {
  shortformerTraining,
  StagedSchedule,
  trainShortformer,
  windowPositions,
  type ShortformerBatch,
} from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const VOCAB = 40;

function schedule(totalSteps = 6): StagedSchedule {
  return new StagedSchedule({
    stages: [
      { length: 4, share: 0.5 },
      { length: 8, share: 0.5 },
    ],
    tokensPerBatch: 16,
    totalSteps,
  });
}

/** Loss of a batch without any cache (positions 1…L), for comparison. */
function uncachedLoss(model: DecoderLM, batch: ShortformerBatch): number {
  const [b, n] = batch.inputs.shape;
  const { positions } = windowPositions(b, 0, n);
  const value = tf.tidy(
    () =>
      tokenCrossEntropy(
        model.forward(batch.inputs, { positions }).logits,
        batch.targets,
      ).dataSync()[0]!,
  );
  positions.ids.dispose();
  return value;
}

describe('staged Shortformer training', () => {
  it('keeps tokens per batch constant and carries the optimizer state across the stage boundary', async () => {
    const model = testModel([{ name: 'pia' }], { vocabSize: VOCAB });
    const tokens = randomTokens(400, VOCAB, 1);
    const plan = shortformerTraining({ model, tokens, schedule: schedule() });
    const parameters = model.parameters();
    const trainer = await Trainer.create({
      parameters,
      steps: 6,
      batchAt: plan.batchAt,
      loss: plan.loss,
      optimizer: { lr: 1e-2, weightDecay: 0 },
    });
    const beta1 = trainer.optimizer.config.beta1;
    const shapes: number[][] = [];
    for (let step = 0; step < 6; step++) {
      const batch = plan.batchAt(step, 0);
      shapes.push(batch.inputs.shape);
      if (step === 3) {
        // First step of stage 2: the gradient it will apply, and the moments before it.
        const before = Object.fromEntries(
          Object.entries(trainer.optimizer.exportState().tensors).map(([k, t]) => [
            k,
            t.dataSync().slice(),
          ]),
        );
        const trainable = Object.values(parameters);
        // A plan of its own: its loss call caches states, which the trainer's step must not see
        // (the trainer's plan, like this one, starts stage 2 with an empty cache).
        const probe = shortformerTraining({ model, tokens, schedule: schedule() });
        const { value, grads } = tf.variableGrads(
          () => probe.loss(batch, { step, micro: 0, seed: stepSeed(0, step, 0) }),
          trainable,
        );
        probe.dispose();
        await trainer.runStep();
        expect(trainer.optimizer.step).toBe(4); // not restarted at 1
        const after = trainer.optimizer.exportState().tensors;
        for (const [name, variable] of Object.entries(parameters)) {
          const g = grads[variable.name]!.dataSync();
          const m0 = before[`m.${name}`]!;
          const expected = Float32Array.from(m0, (m, i) => beta1 * m + (1 - beta1) * g[i]!);
          // Carried over: m = β1·m_prev + (1 − β1)·g with the stage-1 moment, not (1 − β1)·g.
          expect(maxAbsDiff(after[`m.${name}`]!.dataSync(), expected)).toBeLessThan(1e-7);
        }
        expect(
          Math.max(...Object.values(before).map((m) => Math.max(...m.map(Math.abs)))),
        ).toBeGreaterThan(1e-4);
        tf.dispose([value, ...Object.values(grads)]);
      } else {
        await trainer.runStep();
      }
      tf.dispose([batch.inputs, batch.targets]);
    }
    expect(shapes).toEqual([
      [4, 4],
      [4, 4],
      [4, 4],
      [2, 8],
      [2, 8],
      [2, 8],
    ]);
    expect(plan.cache!.cacheLength).toBe(8); // L′ = L of the current stage
    trainer.dispose();
    plan.dispose();
    model.dispose();
  });

  it('clears the cache at each epoch start and uses it within an epoch', () => {
    const model = testModel([{ name: 'pia' }], { vocabSize: VOCAB });
    // 4 rows × (1 + 2·4) tokens: an epoch of the first stage is 2 steps.
    const tokens = randomTokens(36, VOCAB, 2);
    const plan = shortformerTraining({ model, tokens, schedule: schedule(8) });
    const losses: { step: number; cached: number; uncached: number; epochStart: boolean }[] = [];
    for (let step = 0; step < 4; step++) {
      const batch = plan.batchAt(step, 0);
      const loss = plan.loss(batch, { step, micro: 0, seed: 0 });
      losses.push({
        step,
        cached: loss.dataSync()[0]!,
        uncached: uncachedLoss(model, batch),
        epochStart: batch.epochStart,
      });
      tf.dispose([loss, batch.inputs, batch.targets]);
    }
    expect(losses.map((l) => l.epochStart)).toEqual([true, false, true, false]);
    for (const l of losses)
      if (l.epochStart) expect(l.cached).toBeCloseTo(l.uncached, 6);
      else expect(Math.abs(l.cached - l.uncached)).toBeGreaterThan(1e-6);
    plan.dispose();
    model.dispose();
  });

  it('trainShortformer runs every stage and leaks no tensors', async () => {
    const model = testModel([{ name: 'pia' }], { vocabSize: VOCAB });
    const tokens = randomTokens(300, VOCAB, 3);
    const before = tf.memory().numTensors;
    const result = await trainShortformer({
      model,
      tokens,
      steps: 4,
      tokensPerBatch: 16,
      stages: [
        { length: 4, share: 0.5 },
        { length: 8, share: 0.5 },
      ],
      optimizer: { lr: 1e-3 },
    });
    expect(result.completedSteps).toBe(4);
    expect(result.lossHistory.every(Number.isFinite)).toBe(true);
    expect(result.stages.map((s) => [s.length, s.batchSize, s.steps])).toEqual([
      [4, 4, 2],
      [8, 2, 2],
    ]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('a stage switch inside an epoch goes on to the tokens the run has not read yet', () => {
    const model = testModel([{ name: 'pia' }], { vocabSize: VOCAB });
    // Stage 1: 4 rows of 100 tokens, 4 per step; stage 2 (steps 3–5): 2 rows of 200, 8 per step.
    const tokens = randomTokens(400, VOCAB, 4);
    const plan = shortformerTraining({ model, tokens, schedule: schedule() });
    const firstOfStage2 = plan.batchAt(3, 0);
    // 3 steps of 16 tokens read 3/24 of the epoch: stage 2's rows start 3 × 8 tokens into their
    // parts (restarting at 0 would read tokens 0…23 of each part a second time).
    const expected = windowsAt(tokens, [24, 224], 8);
    expect(firstOfStage2.stage).toBe(1);
    expect(firstOfStage2.epochStart).toBe(false);
    expect(firstOfStage2.inputs.arraySync()).toEqual(expected.inputs.arraySync());
    expect(firstOfStage2.targets.arraySync()).toEqual(expected.targets.arraySync());
    tf.dispose([firstOfStage2.inputs, firstOfStage2.targets, expected.inputs, expected.targets]);
    plan.dispose();
    model.dispose();
  });

  it('shuffled: each stage draws its subsequences at random offsets from (seed, step), and refuses a cache', () => {
    const model = testModel([{ name: 'sinusoidal' }], { vocabSize: VOCAB });
    const tokens = randomTokens(400, VOCAB, 5);
    const staged = new StagedSchedule({
      stages: [
        { length: 4, share: 0.5 },
        { length: 8, share: 0.5 },
      ],
      tokensPerBatch: 16,
      totalSteps: 4,
      defaultCache: 0,
    });
    const plan = shortformerTraining({ model, tokens, schedule: staged, shuffle: { seed: 9 } });
    for (const [step, rows, length] of [
      [0, 4, 4],
      [3, 2, 8],
    ] as const) {
      const batch = plan.batchAt(step, 0);
      const expected = randomWindows(tokens, rows, length, 9, step);
      expect(batch.inputs.arraySync()).toEqual(expected.inputs.arraySync());
      expect(batch.targets.arraySync()).toEqual(expected.targets.arraySync());
      expect(batch.epochStart).toBe(false);
      tf.dispose([batch.inputs, batch.targets, expected.inputs, expected.targets]);
    }
    // Not the streams: row 1 of the streams would start at a quarter of the corpus.
    const a = plan.batchAt(1, 0);
    const b = shortformerTraining({ model, tokens, schedule: staged }).batchAt(1, 0);
    expect(a.inputs.arraySync()).not.toEqual(b.inputs.arraySync());
    tf.dispose([a.inputs, a.targets, b.inputs, b.targets]);
    expect(() =>
      shortformerTraining({ model, tokens, schedule: schedule(), shuffle: { seed: 0 } }),
    ).toThrow(/shuffle is not allowed with a cache \(stage 0 caches L′ = 4\)/);
    plan.dispose();
    model.dispose();
  });

  it('rejects a corpus too short for a stage', () => {
    const model = testModel([{ name: 'pia' }], { vocabSize: VOCAB });
    expect(() =>
      shortformerTraining({ model, tokens: randomTokens(16, VOCAB, 4), schedule: schedule() }),
    ).toThrow(/16 tokens cut into 4 rows give 4 tokens per row, fewer than length \+ 1 = 5/);
    model.dispose();
  });
});
