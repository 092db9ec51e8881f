import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { readCheckpointPointer, WEIGHTS_FILE } from './checkpoint.js';
import { loadWeights } from './weights.js';
import {
  createResumeRunModel,
  createTinyLm,
  parameterValues,
  resumeRunOptions,
  toyBatchAt,
} from './fixtures/tiny-lm.js';
import { learningRateAt, parseSchedule } from './schedule.js';
import { NonFiniteError, stepSeed, train, Trainer, type ProgressEvent } from './trainer.js';

let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'posenc-trainer-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
let dirCount = 0;
const freshDir = () => join(root, `run-${dirCount++}`);

function maxAbsDifference(a: Record<string, number[]>, b: Record<string, number[]>): number {
  let max = 0;
  for (const name of Object.keys(b))
    a[name]!.forEach((x, i) => (max = Math.max(max, Math.abs(x - b[name]![i]!))));
  return max;
}

describe('train', () => {
  it('averages 4 accumulated micro-batches to the same update as one batch 4× the size', async () => {
    const runWith = async (batchSize: number, accumulationSteps: number) => {
      const model = createTinyLm(3);
      const gradNorms: number[] = [];
      const result = await train({
        parameters: model.parameters,
        loss: model.loss,
        batchAt: toyBatchAt(batchSize, accumulationSteps),
        accumulationSteps,
        steps: 4,
        clipNorm: 0.5,
        optimizer: { lr: 0.02 },
        onProgress: (e) => gradNorms.push(e.gradNorm),
      });
      const values = parameterValues(model.parameters);
      model.dispose();
      return { losses: result.lossHistory, gradNorms, values };
    };
    const accumulated = await runWith(2, 4);
    const single = await runWith(8, 1);
    // Adam is nearly invariant to the gradient's scale, so the gradient norm is compared too:
    // it catches a sum that was not averaged.
    for (const quantity of ['losses', 'gradNorms'] as const)
      accumulated[quantity].forEach((value, step) =>
        expect(Math.abs(value - single[quantity][step]!), `${quantity}[${step}]`).toBeLessThan(
          1e-5,
        ),
      );
    expect(maxAbsDifference(accumulated.values, single.values)).toBeLessThan(1e-5);
    // The updates were real: the parameters moved well beyond the tolerance.
    const initial = createTinyLm(3);
    expect(maxAbsDifference(parameterValues(initial.parameters), single.values)).toBeGreaterThan(
      1e-2,
    );
    initial.dispose();
  });

  it('leaves the tensor count unchanged by a step once the optimizer state exists, and by a whole run', async () => {
    const model = createResumeRunModel();
    const beforeRun = tf.memory().numTensors;
    const trainer = await Trainer.create({
      ...resumeRunOptions(model, 10),
      checkpointDir: freshDir(),
      checkpointEvery: 2,
    });
    await trainer.runStep();
    const afterFirstStep = tf.memory().numTensors;
    expect(afterFirstStep).toBe(beforeRun + 2 * Object.keys(model.parameters).length);
    for (let i = 0; i < 3; i++) {
      const event = await trainer.runStep();
      expect(tf.memory().numTensors, `after step ${event.step}`).toBe(afterFirstStep);
    }
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(beforeRun);

    await train({ ...resumeRunOptions(model, 3), checkpointDir: freshDir(), checkpointEvery: 1 });
    expect(tf.memory().numTensors).toBe(beforeRun);
    model.dispose();
  });

  it('reports progress for a CLI bar', async () => {
    const model = createResumeRunModel();
    const events: ProgressEvent[] = [];
    const options = resumeRunOptions(model, 6);
    const dir = freshDir();
    const result = await train({
      ...options,
      checkpointDir: dir,
      checkpointEvery: 4,
      onProgress: (e) => events.push(e),
    });
    const schedule = parseSchedule({ ...options.schedule, totalSteps: 6 });
    expect(events.map((e) => e.step)).toEqual([0, 1, 2, 3, 4, 5]);
    events.forEach((e, step) => {
      expect(e.totalSteps).toBe(6);
      expect(e.loss).toBe(result.lossHistory[step]);
      expect(e.lr).toBe(learningRateAt(step, 0.05, schedule));
      expect(e.gradNorm).toBeGreaterThan(0);
      expect(e.tokens).toBe(2 * 4 * 6); // 2 micro-batches of 4 sequences of 6 tokens
      expect(e.tokensPerSecond).toBeGreaterThan(0);
      expect(e.elapsedMs).toBeGreaterThan(0);
    });
    expect(events.at(-1)!.etaMs).toBe(0);
    expect(events.filter((e) => e.checkpoint).map((e) => [e.step, e.checkpoint])).toEqual([
      [3, join(dir, 'step-00000004')],
      [5, join(dir, 'step-00000006')],
    ]);
    model.dispose();
  });

  it('stops on a NaN loss, naming the step and value, without applying it or touching the last checkpoint', async () => {
    const model = createResumeRunModel();
    const options = resumeRunOptions(model, 10);
    const badStep = 5;
    const dir = freshDir();
    const run = train({
      ...options,
      loss: (batch, context) =>
        tf.tidy(() =>
          context.step === badStep
            ? tf.mul(options.loss(batch, context), NaN)
            : options.loss(batch, context),
        ),
      checkpointDir: dir,
      checkpointEvery: 2,
    });
    await expect(run).rejects.toThrow(
      `training stopped at step ${badStep}: the loss is NaN. The step was not applied; the last good checkpoint is ${join(dir, 'step-00000004')}.`,
    );
    await expect(run).rejects.toBeInstanceOf(NonFiniteError);
    expect((await readCheckpointPointer(dir))?.step).toBe(4);

    // The parameters in memory are those after steps 0–4: they equal a clean run stopped there.
    const reference = createResumeRunModel();
    const trainer = await Trainer.create(resumeRunOptions(reference, 10));
    for (let i = 0; i < badStep; i++) await trainer.runStep();
    trainer.dispose();
    expect(parameterValues(model.parameters)).toEqual(parameterValues(reference.parameters));

    // And the checkpoint on disk is the one from step 4, before the bad step.
    const onDisk = createResumeRunModel();
    await loadWeights(join(dir, 'step-00000004', WEIGHTS_FILE), onDisk.parameters);
    const atStep4 = createResumeRunModel();
    const trainer4 = await Trainer.create(resumeRunOptions(atStep4, 10));
    for (let i = 0; i < 4; i++) await trainer4.runStep();
    trainer4.dispose();
    expect(parameterValues(onDisk.parameters)).toEqual(parameterValues(atStep4.parameters));
    for (const m of [model, reference, onDisk, atStep4]) m.dispose();
  });

  it('stops on a non-finite gradient norm even when the loss is finite', async () => {
    const model = createTinyLm(5);
    const before = parameterValues(model.parameters);
    const weight = model.parameters['layers.0.mlp.weight']!;
    // sqrt'(0) is infinite: the loss value is unchanged, its gradient is NaN.
    const run = train({
      parameters: model.parameters,
      batchAt: toyBatchAt(2, 1),
      steps: 3,
      loss: (batch, context) =>
        tf.tidy(() => {
          const loss = model.loss(batch, context);
          return context.step === 0
            ? tf.add(loss, tf.mul(0, tf.sum(tf.sqrt(tf.sub(weight, weight)))))
            : loss;
        }),
    });
    await expect(run).rejects.toThrow(
      'training stopped at step 0: the gradient norm is NaN. The step was not applied; no checkpoint was written.',
    );
    expect(parameterValues(model.parameters)).toEqual(before);
    model.dispose();
  });

  it('resumes after an abort exactly where an uninterrupted run would be', async () => {
    const reference = createResumeRunModel();
    const full = await train({
      ...resumeRunOptions(reference, 10),
      checkpointDir: freshDir(),
      checkpointEvery: 4,
    });

    const dir = freshDir();
    const interrupted = createResumeRunModel();
    const controller = new AbortController();
    const first = await train({
      ...resumeRunOptions(interrupted, 10),
      checkpointDir: dir,
      checkpointEvery: 4,
      signal: controller.signal,
      onProgress: (e) => e.step === 5 && controller.abort(),
    });
    expect(first).toMatchObject({
      completedSteps: 6,
      aborted: true,
      checkpoint: join(dir, 'step-00000006'),
    });
    interrupted.dispose();

    const resumedModel = createResumeRunModel();
    const resumed = await train({
      ...resumeRunOptions(resumedModel, 10),
      checkpointDir: dir,
      checkpointEvery: 4,
      resume: true,
    });
    expect(resumed.resumedFrom).toBe(6);
    expect(resumed.lossHistory).toEqual(full.lossHistory);
    expect(parameterValues(resumedModel.parameters)).toEqual(parameterValues(reference.parameters));
    reference.dispose();
    resumedModel.dispose();
  });

  it('refuses to start fresh over an existing checkpoint, or to resume it with another seed', async () => {
    const model = createResumeRunModel();
    const dir = freshDir();
    await train({ ...resumeRunOptions(model, 4), checkpointDir: dir });
    await expect(train({ ...resumeRunOptions(model, 8), checkpointDir: dir })).rejects.toThrow(
      `checkpointDir ${dir} already holds a checkpoint at step 4; pass resume: true to continue it or use another directory`,
    );
    await expect(
      train({ ...resumeRunOptions(model, 8), seed: 99, checkpointDir: dir, resume: true }),
    ).rejects.toThrow(
      `checkpoint ${join(dir, 'step-00000004')} was trained with seed 1234, this run has seed 99; an exact resume needs the same seed`,
    );
    const trainer = JSON.parse(await readFile(join(dir, 'step-00000004', 'trainer.json'), 'utf8'));
    expect(trainer).toMatchObject({
      step: 4,
      seed: 1234,
      config: { steps: 4, accumulationSteps: 2, clipNorm: 1 },
    });
    expect(trainer.lossHistory).toHaveLength(4);
    model.dispose();
  });

  it('validates its options, naming field, value and what is allowed', async () => {
    const model = createTinyLm(1);
    const base = { parameters: model.parameters, loss: model.loss, batchAt: toyBatchAt(2, 1) };
    await expect(train({ ...base, steps: 0 })).rejects.toThrow(
      "train: field 'steps' = 0 is not allowed; expected an integer ≥ 1",
    );
    await expect(train({ ...base, steps: 2, checkpointEvery: 1 })).rejects.toThrow(
      "train: field 'checkpointEvery' = 1 is not allowed; needs checkpointDir to be set",
    );
    await expect(train({ ...base, steps: 2, chekpointDir: '/tmp/x' } as never)).rejects.toThrow(
      "field 'chekpointDir'",
    );
    await expect(train({ ...base, steps: 2, optimizer: { beta2: -1 } })).rejects.toThrow(
      "train.optimizer: field 'beta2' = -1",
    );
    await expect(
      train({ ...base, steps: 2, schedule: { kind: 'cosine', warmupSteps: 5 } }),
    ).rejects.toThrow(
      "train.schedule: field 'warmupSteps' = 5 is not allowed; at most totalSteps (2)",
    );
    model.dispose();
  });
});

describe('stepSeed', () => {
  it('is a pure, distinct 31-bit seed per (seed, step, micro)', () => {
    const seen = new Set<number>();
    for (const seed of [0, 1])
      for (let step = 0; step < 50; step++)
        for (let micro = 0; micro < 4; micro++) seen.add(stepSeed(seed, step, micro));
    expect(seen.size).toBe(400);
    for (const s of seen) expect(s >= 0 && s < 2 ** 31 && Number.isInteger(s)).toBe(true);
    expect(stepSeed(7, 3, 1)).toBe(stepSeed(7, 3, 1));
  });
});
