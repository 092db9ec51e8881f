/**
 * Crash safety of a whole benchmark run: the CLI process is SIGKILLed in the middle of training,
 * the same command is run again, and it resumes from the last checkpoint and completes with the
 * same losses and perplexities as a run that was never interrupted.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchResults } from '../../run/results.js';
import { ownLines, runCli } from '../../testing/run-cli.js';
import { TINY_RUN_ARGS } from '../../testing/tiny-run.js';
import type { LMDetails } from './evaluate.js';

const STEPS = 150;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'posenc-kill-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const args = (out: string) => [
  'bench',
  'lm',
  ...TINY_RUN_ARGS,
  '--methods',
  'alibi,sinusoidal',
  '--steps',
  String(STEPS),
  '--checkpoint-every',
  '10',
  '--out',
  out,
];

async function results(dir: string): Promise<BenchResults> {
  return JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as BenchResults;
}

describe('a killed run', () => {
  it('resumes from its last checkpoint and completes as if never interrupted', async () => {
    const killedDir = join(root, 'killed');
    const pointer = join(killedDir, 'cells', 'alibi', 'seed-0', 'checkpoints', 'latest.json');
    const [reference, killed] = await Promise.all([
      runCli(args(join(root, 'reference'))),
      runCli(args(killedDir), {
        onStart: (child) => {
          const poll = setInterval(() => {
            if (existsSync(pointer)) {
              child.kill('SIGKILL');
              clearInterval(poll);
            }
          }, 2);
          child.on('exit', () => clearInterval(poll));
        },
      }),
    ]);
    expect(reference.code, reference.stderr).toBe(0);
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    // Killed during training: nothing was finished, nothing half-written.
    expect(existsSync(join(killedDir, 'cells', 'alibi', 'seed-0', 'result.json'))).toBe(false);
    expect(existsSync(join(killedDir, 'results.json'))).toBe(false);

    const rerun = await runCli(args(killedDir));
    expect(rerun.code, rerun.stderr).toBe(0);
    const resumed = ownLines(rerun.stderr).find((l) => l.includes('alibi: resuming from step'));
    expect(resumed, rerun.stderr).toBeDefined();
    const step = Number(/resuming from step (\d+)/.exec(resumed!)![1]);
    expect(step).toBeGreaterThan(0);
    expect(step).toBeLessThan(STEPS);
    expect(step % 10).toBe(0);

    const expected = await results(join(root, 'reference'));
    const actual = await results(killedDir);
    expect(actual.cells.map((m) => m.method)).toEqual(['alibi', 'sinusoidal']);
    expect(actual.cells[0]!.training.resumedFrom).toEqual([step]);
    expect(actual.cells[1]!.training.resumedFrom).toEqual([]);
    const perplexities = (c: BenchResults['cells'][number]) =>
      (c.details as unknown as LMDetails).evaluations.map((x) => x.perplexity);
    actual.cells.forEach((m, i) => {
      const e = expected.cells[i]!;
      expect(m.training.lossHistory).toEqual(e.training.lossHistory);
      expect(perplexities(m)).toEqual(perplexities(e));
    });
  });
});
