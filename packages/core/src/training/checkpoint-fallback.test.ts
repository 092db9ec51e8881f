/**
 * A resume over damaged checkpoints: a corrupt `latest.json`, `trainer.json` or safetensors file
 * is named to `onCheckpointProblem`, the newest intact checkpoint is loaded, and the run ends
 * exactly as one that was never damaged. Without the callback, the damage is an error naming
 * the file; a checkpoint that does not fit the model is never passed over as "corrupt".
 */
import { mkdtemp, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { zerosParameter } from '../nn/init.js';
import { CorruptCheckpointError } from './checkpoint-record.js';
import {
  OPTIMIZER_FILE,
  POINTER_FILE,
  readCheckpointPointer,
  TRAINER_FILE,
  WEIGHTS_FILE,
} from './checkpoint.js';
import {
  createResumeRunModel,
  createTinyLm,
  parameterValues,
  resumeRunOptions,
} from './fixtures/tiny-lm.js';
import { train } from './trainer.js';

const STEPS = 8;

let root: string;
let reference: { losses: number[]; values: Record<string, number[]> };
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'posenc-fallback-'));
  const model = createResumeRunModel();
  const result = await train(resumeRunOptions(model, STEPS));
  reference = { losses: result.lossHistory, values: parameterValues(model.parameters) };
  model.dispose();
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let runs = 0;
/** Trains to step 6 with checkpoints at 2, 4 and 6 kept; returns the folder. */
async function checkpointedTo6(): Promise<string> {
  const dir = join(root, `run-${runs++}`);
  const again = createResumeRunModel();
  const controller = new AbortController();
  await train({
    ...resumeRunOptions(again, STEPS),
    checkpointDir: dir,
    checkpointEvery: 2,
    keepCheckpoints: 3,
    signal: controller.signal,
    onProgress: (e) => {
      if (e.step + 1 === 6) controller.abort();
    },
  });
  again.dispose();
  expect((await readCheckpointPointer(dir))?.step).toBe(6);
  return dir;
}

async function resume(dir: string, problems?: string[]) {
  const model = createResumeRunModel();
  try {
    const result = await train({
      ...resumeRunOptions(model, STEPS),
      checkpointDir: dir,
      checkpointEvery: 2,
      keepCheckpoints: 3,
      resume: true,
      ...(problems && { onCheckpointProblem: (line: string) => problems.push(line) }),
    });
    return { result, values: parameterValues(model.parameters) };
  } finally {
    model.dispose();
  }
}

describe('resuming over damaged checkpoints', () => {
  it.each([
    [
      'latest.json is not JSON',
      (dir: string) => writeFile(join(dir, POINTER_FILE), '{"step": 6, "fol'),
      6,
      /latest\.json is not valid JSON/,
    ],
    [
      'trainer.json is cut short',
      (dir: string) => truncate(join(dir, 'step-00000006', TRAINER_FILE), 10),
      4,
      /step-00000006\/trainer\.json is corrupt/,
    ],
    [
      'model.safetensors is cut short',
      (dir: string) => truncate(join(dir, 'step-00000006', WEIGHTS_FILE), 40),
      4,
      /step-00000006\/model\.safetensors is corrupt/,
    ],
    [
      'optimizer.safetensors is missing',
      (dir: string) => rm(join(dir, 'step-00000006', OPTIMIZER_FILE)),
      4,
      /optimizer\.safetensors is missing/,
    ],
  ] as const)(
    '%s: falls back to the newest intact checkpoint and ends as an undamaged run',
    async (_, damage, resumedFrom, named) => {
      const dir = await checkpointedTo6();
      await damage(dir);
      const problems: string[] = [];
      const { result, values } = await resume(dir, problems);
      expect(problems.join('\n')).toMatch(named);
      expect(result.resumedFrom).toBe(resumedFrom);
      expect(result.lossHistory).toEqual(reference.losses);
      expect(values).toEqual(reference.values);
      // The pointer names the last checkpoint again, and later ones were written after the fallback.
      expect((await readCheckpointPointer(dir))?.step).toBe(STEPS);
      expect((await readdir(dir)).filter((n) => n.startsWith('step-')).length).toBeLessThanOrEqual(
        3,
      );
    },
  );

  it('with every checkpoint damaged, starts from step 0 and says so', async () => {
    const dir = await checkpointedTo6();
    for (const step of ['00000002', '00000004', '00000006'])
      await truncate(join(dir, `step-${step}`, WEIGHTS_FILE), 8);
    const problems: string[] = [];
    const { result, values } = await resume(dir, problems);
    expect(problems.at(-1)).toMatch(/no intact checkpoint in .*; training starts from step 0/);
    expect(result.resumedFrom).toBeUndefined();
    expect(values).toEqual(reference.values);
  });

  it('without onCheckpointProblem, a damaged file is an error that names it', async () => {
    const dir = await checkpointedTo6();
    await truncate(join(dir, 'step-00000006', WEIGHTS_FILE), 40);
    await expect(resume(dir)).rejects.toThrow(CorruptCheckpointError);
    await expect(resume(dir)).rejects.toThrow(/step-00000006\/model\.safetensors is corrupt/);
  });

  it('never passes over a checkpoint that does not fit the model', async () => {
    const dir = await checkpointedTo6();
    const other = createTinyLm(7, 0.1);
    const extra = zerosParameter([2]);
    const problems: string[] = [];
    await expect(
      train({
        ...resumeRunOptions(other, STEPS),
        parameters: { ...other.parameters, extra },
        checkpointDir: dir,
        resume: true,
        onCheckpointProblem: (line) => problems.push(line),
      }),
    ).rejects.toThrow(/does not match the model's parameters/);
    other.dispose();
    extra.dispose();
    expect(problems).toEqual([]);
  });
});
