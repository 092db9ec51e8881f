/**
 * Crash safety end to end: a training process is SIGKILLed after its first checkpoint, rerun with
 * `--resume`, and must finish exactly where an uninterrupted run with the same seed does.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { POINTER_FILE, readCheckpointPointer } from './checkpoint.js';
import { createResumeRunModel, parameterValues, resumeRunOptions } from './fixtures/tiny-lm.js';
import { train } from './trainer.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/resume-run.ts', import.meta.url));
const CORE_PACKAGE = fileURLToPath(new URL('../..', import.meta.url));
const STEPS = 24;
const EVERY = 3;
/** Per micro-batch in the run to be killed: about 2 s in all, far longer than one checkpoint interval. */
const SLOW_BATCH_MS = 40;

interface RunOutput {
  resumedFrom: number | null;
  lossHistory: number[];
  parameters: Record<string, number[]>;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the fixture; with `killWhen`, polls it and SIGKILLs the child as soon as it holds. */
function runFixture(args: string[], killWhen?: () => boolean): Promise<Exit> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args], {
    cwd: CORE_PACKAGE,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const poll = killWhen && setInterval(() => killWhen() && child.kill('SIGKILL'), 5);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (poll) clearInterval(poll);
      resolve({ code, signal, stderr });
    });
  });
}

let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'posenc-resume-kill-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('kill and resume', () => {
  it('continues a SIGKILLed run to the same losses and parameters as an uninterrupted run', async () => {
    const model = createResumeRunModel();
    const reference = await train({
      ...resumeRunOptions(model, STEPS),
      checkpointDir: join(root, 'reference'),
      checkpointEvery: EVERY,
    });
    const referenceParameters = parameterValues(model.parameters);
    model.dispose();

    const dir = join(root, 'killed');
    const out = join(root, 'result.json');
    const common = ['--dir', dir, '--steps', String(STEPS), '--every', String(EVERY), '--out', out];
    const killed = await runFixture([...common, '--delay-ms', String(SLOW_BATCH_MS)], () =>
      existsSync(join(dir, POINTER_FILE)),
    );
    expect(killed, killed.stderr).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(existsSync(out), 'the killed run must not have finished').toBe(false);
    const checkpointStep = (await readCheckpointPointer(dir))!.step;
    expect(checkpointStep).toBeGreaterThanOrEqual(EVERY);
    expect(checkpointStep).toBeLessThan(STEPS);

    const resumed = await runFixture([...common, '--resume']);
    expect(resumed, resumed.stderr).toMatchObject({ code: 0, signal: null });
    const result = JSON.parse(await readFile(out, 'utf8')) as RunOutput;
    expect(result.resumedFrom).toBe(checkpointStep);
    expect(result.lossHistory.slice(checkpointStep)).toEqual(
      reference.lossHistory.slice(checkpointStep),
    );
    expect(result.lossHistory).toEqual(reference.lossHistory);
    expect(result.parameters).toEqual(referenceParameters);
  }, 60_000);
});
