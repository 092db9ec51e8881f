/**
 * Sweeps through a real Redis with `posenc bench lm … --queue` and `posenc worker` processes,
 * on the LM harness's quick preset (made tiny) with two seeds, against a local run of the same
 * settings, under each fault the queue must survive:
 *
 * - a worker SIGKILLed mid-cell: BullMQ's stalled-job check gives the cell to the other worker,
 *   which resumes it from its newest checkpoint in the store; the figures equal the local run's,
 *   to the printed digit;
 * - the coordinator SIGKILLed and run again with the same command: it attaches to the jobs
 *   queued or done, and no cell is trained twice to the end;
 * - Redis restarted mid-cell: workers and coordinator reconnect and the run completes.
 *
 * Each fault uses its own database of the server, so job ids (derived from the settings) do not
 * meet across them.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchResults, CellRecord } from '../run/results.js';
import { printedTable, startCli, when, type CliProcess } from '../testing/cli-process.js';
import { startRedis, type RedisServer } from '../testing/redis-server.js';
import { runCli, type CliExit } from '../testing/run-cli.js';
import { TINY_RUN_ARGS } from '../testing/tiny-run.js';

const STEPS = 120;
const SETTINGS = [...TINY_RUN_ARGS, '--steps', String(STEPS), '--checkpoint-every', '10'];
/** Short, so a killed worker's cell moves on quickly; long enough for a loaded machine. */
const STALL_TIMEOUT_S = '6';
const LONG = 900_000;

let root: string;
let redis: RedisServer;
let reference: Promise<CliExit>;
const workers: CliProcess[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'posenc-queue-'));
  redis = await startRedis();
  // The single-process run every queued run is compared with (4 methods × 2 seeds).
  reference = runCli(['bench', 'lm', ...SETTINGS, '--seeds', '0,1', '--out', join(root, 'local')]);
});
afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await redis?.stop();
  await rm(root, { recursive: true, force: true });
});

const bench = (out: string, db: number, more: string[]) => [
  'bench',
  'lm',
  ...SETTINGS,
  ...more,
  '--out',
  join(root, out),
  '--queue',
  redis.urlOf(db),
];

function worker(db: number, store: string): CliProcess {
  const w = startCli([
    'worker',
    '--queue',
    redis.urlOf(db),
    '--store',
    join(root, store),
    '--stall-timeout',
    STALL_TIMEOUT_S,
  ]);
  workers.push(w);
  return w;
}

const ready = (w: CliProcess) => w.output().includes('waiting for cells');

async function results(dir: string): Promise<BenchResults> {
  return JSON.parse(await readFile(join(root, dir, 'results.json'), 'utf8')) as BenchResults;
}

/** A cell's details without the wall times, which differ from run to run. */
const withoutTimes = (details: unknown): unknown =>
  JSON.parse(
    JSON.stringify(details, (key, value: unknown) => (key === 'wallMs' ? undefined : value)),
  );

/** Every queued cell has the figures of the same cell run locally. */
async function expectLikeLocal(queued: BenchResults): Promise<void> {
  const local = await reference;
  expect(local.code, local.stderr).toBe(0);
  const expected = await results('local');
  for (const cell of queued.cells) {
    const same = expected.cells.find((c) => c.method === cell.method && c.seed === cell.seed)!;
    expect(cell.training.lossHistory, `${cell.method}/${cell.seed}`).toEqual(
      same.training.lossHistory,
    );
    expect(cell.metrics, `${cell.method}/${cell.seed}`).toEqual(same.metrics);
    expect(withoutTimes(cell.details), `${cell.method}/${cell.seed}`).toEqual(
      withoutTimes(same.details),
    );
  }
}

/** The cell a worker says it took last (`job …: <run> <method>/seed-<n> (attempt k)`). */
function lastTaken(w: CliProcess): string | undefined {
  return [...w.output().matchAll(/^job \S+: \S+ (\S+\/seed-\d+) \(attempt/gm)].at(-1)?.[1];
}

/**
 * Resolves with a cell the worker is training: checkpointed, and far enough from its last step
 * that it is still training when the caller acts.
 */
function midCell(w: CliProcess, store: string, run: string): Promise<string> {
  let found: string | undefined;
  return when(() => {
    const cell = lastTaken(w);
    if (!cell) return false;
    const pointer = join(root, store, run, 'cells', cell, 'checkpoints', 'latest.json');
    try {
      const { step } = JSON.parse(readFileSync(pointer, 'utf8')) as { step: number };
      if (step >= 20 && step <= STEPS / 2) found = cell;
    } catch {
      // Not written yet.
    }
    return found !== undefined;
  }, [w]).then(() => found!);
}

const doneLines = (text: string, cell: string) =>
  text.split('\n').filter((l) => l.includes(`${cell}: done —`)).length;

describe('posenc bench --queue with posenc worker', () => {
  it(
    'a worker SIGKILLed mid-cell: the other resumes it; the figures equal a local run’s to the printed digit',
    async () => {
      const [a, b] = [worker(0, 'store'), worker(0, 'store')];
      await when(() => ready(a) && ready(b), [a, b]);
      const coordinator = startCli(bench('queued', 0, ['--seeds', '0,1']));
      const killed = await midCell(a, 'store', 'queued');
      a.child.kill('SIGKILL');
      const done = await coordinator.exit;
      expect(done.code, done.stderr).toBe(0);
      expect((await a.exit).signal).toBe('SIGKILL');

      const queued = await results('queued');
      expect(queued.cells).toHaveLength(8);
      await expectLikeLocal(queued);
      expect(printedTable(done.stdout)).toEqual(printedTable((await reference).stdout));
      // The killed cell went to the other worker, which resumed it from a checkpoint.
      const [method, seed] = killed.split('/seed-');
      const record = queued.cells.find((c) => c.method === method && c.seed === Number(seed))!;
      expect(record.worker!.pid).toBe(b.child.pid);
      expect(record.training.resumedFrom).toHaveLength(1);
      expect(record.training.resumedFrom[0]).toBeGreaterThan(0);
      expect(b.output()).toContain(`${killed}: taking the cell over from pid ${a.child.pid}`);
      expect(b.output()).toMatch(
        new RegExp(
          `${killed.replace('+', '\\+')}: resuming from step ${record.training.resumedFrom[0]}`,
        ),
      );
      expect(done.stderr).toContain('its worker stopped answering; it goes to another worker');
      b.child.kill('SIGTERM');
      expect((await b.exit).code).toBe(130);
    },
    LONG,
  );

  it(
    'the coordinator SIGKILLed and run again attaches to its jobs; no cell is trained twice',
    async () => {
      const w = worker(1, 'store-b');
      await when(() => ready(w), [w]);
      const args = bench('attached', 1, ['--methods', 'alibi,rope']);
      const first = startCli(args);
      // Killed once a cell is done and recorded, with others queued or running.
      await when(() => /\] \S+: done — /.test(first.output()), [first]);
      first.child.kill('SIGKILL');
      expect((await first.exit).signal).toBe('SIGKILL');
      const second = await runCli(args);
      expect(second.code, second.stderr).toBe(0);
      // What the killed coordinator had collected is in the run folder; the rest is attached to.
      const collected = Number(/(\d+) cell\(s\) were already done/.exec(second.stdout)?.[1]);
      expect(collected).toBeGreaterThanOrEqual(1);
      if (collected < 2)
        expect(second.stderr).toContain(
          `0 cell(s) queued, ${2 - collected} already queued, running or done`,
        );
      expect(second.stderr).toContain(`taking over the lock of pid ${first.child.pid}`);

      const attached = await results('attached');
      expect(attached.cells.map((c) => c.method)).toEqual(['alibi', 'rope']);
      await expectLikeLocal(attached);
      for (const cell of ['alibi/seed-0', 'rope/seed-0'])
        expect(doneLines(w.output(), cell), `${cell} trained to the end once`).toBe(1);
      w.child.kill('SIGTERM');
      await w.exit;
    },
    LONG,
  );

  it(
    'Redis restarted mid-cell: workers and coordinator reconnect and the run completes',
    async () => {
      const w = worker(2, 'store-c');
      await when(() => ready(w), [w]);
      const coordinator = startCli(bench('restarted', 2, ['--methods', 'alibi,rope']));
      await midCell(w, 'store-c', 'restarted');
      await redis.restart();
      const done = await coordinator.exit;
      expect(done.code, done.stderr).toBe(0);
      const restarted = await results('restarted');
      expect(restarted.cells.map((c: CellRecord) => c.method)).toEqual(['alibi', 'rope']);
      await expectLikeLocal(restarted);
      // Both saw the server go and come back.
      for (const output of [done.stderr, w.output()])
        expect(output).toMatch(/queue redis:\/\/127\.0\.0\.1:\d+\/2: connected/);
      w.child.kill('SIGTERM');
      await w.exit;
    },
    LONG,
  );
});
