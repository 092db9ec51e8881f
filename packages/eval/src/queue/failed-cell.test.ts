/**
 * A cell that fails on every attempt (a NaN loss) through a real Redis: BullMQ retries it, then
 * it is marked failed with its reason; the other cells go on and equal a local run's, the report
 * names the failed one, and the coordinator exits as a local run would (failed cells listed).
 * Coordinator and worker run in this process (one training loop at a time, as the engine needs).
 */
import { initEngine, type EngineChoice } from '@posenc/core';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgressReporter } from '../cli/progress-reporter.js';
import { prepareBench } from '../run/prepare-bench.js';
import { runBench } from '../run/run-bench.js';
import { CapturedStream } from '../testing/capture.js';
import { startRedis, type RedisServer } from '../testing/redis-server.js';
import { toyHarness, type ToyConfig } from '../testing/toy-harness.js';
import { CELL_ATTEMPTS } from './cell-job.js';
import { runQueuedBench } from './coordinator.js';
import { parseQueueUrl } from './queue-url.js';
import { runWorker } from './worker.js';

let root: string;
let redis: RedisServer;
let engine: EngineChoice;
beforeAll(async () => {
  engine = await initEngine({ engine: 'cpu', log: null });
  root = await mkdtemp(join(tmpdir(), 'posenc-failed-cell-'));
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  await rm(root, { recursive: true, force: true });
});

const prepare = (out: string) =>
  prepareBench<ToyConfig, unknown>({
    harness: toyHarness,
    config: { steps: 8, delayMs: 0 },
    methods: ['zero', 'nan', 'one'],
    methodsExplicit: true,
    seeds: [0],
    out,
    baseDir: root,
    command: 'toy',
    checkpointEvery: 2,
  });

describe('a cell that fails on the queue', () => {
  it('is failed with its reason after the retries; the others go on; the report names it', async () => {
    const local = await runBench(await prepare('local'));
    expect(local.failed.map((f) => f.method)).toEqual(['nan']);

    const address = parseQueueUrl(redis.url);
    const stop = new AbortController();
    const workerOut = new CapturedStream();
    let ready!: () => void;
    const started = new Promise<void>((resolve) => (ready = resolve));
    const worker = runWorker({
      address,
      store: join(root, 'store'),
      stallTimeoutMs: 30_000,
      engine,
      command: 'posenc worker (test)',
      progress: createProgressReporter(workerOut),
      signal: stop.signal,
      findHarness: (task) => (task === 'toy' ? toyHarness : undefined),
      onReady: ready,
    });
    await started;
    const coordinatorOut = new CapturedStream();
    const queued = await runQueuedBench(await prepare('queued'), {
      address,
      progress: createProgressReporter(coordinatorOut),
    });

    expect(queued.failed).toHaveLength(1);
    const [failed] = queued.failed;
    expect(failed!.method).toBe('nan');
    expect(failed!.error).toMatch(
      new RegExp(
        `training stopped at step \\d+: the loss is NaN.* \\(after ${CELL_ATTEMPTS} attempt\\(s\\)\\)$`,
      ),
    );
    // Every attempt ran, from the checkpoint before the NaN.
    expect(workerOut.text.match(/nan\/seed-0: FAILED/g)).toHaveLength(CELL_ATTEMPTS);
    expect(coordinatorOut.text).toContain('nan: FAILED — training stopped at step');
    expect(queued.results.cells.map((c) => c.method)).toEqual(['zero', 'one']);
    queued.results.cells.forEach((c, i) => {
      const l = local.results.cells[i]!;
      expect(c.metrics).toEqual(l.metrics);
      expect(c.training.lossHistory).toEqual(l.training.lossHistory);
      expect(c.worker?.pid).toBe(process.pid);
    });
    const md = await readFile(join(root, 'queued', 'report.md'), 'utf8');
    expect(md).toMatch(/- nan, seed 0: failed — training stopped at step \d+: the loss is NaN/);
    // Run again, the done cells are taken from the run folder and the failed one is tried again,
    // as a local rerun does.
    const again = await runQueuedBench(await prepare('queued'), { address });
    stop.abort();
    await worker;
    expect(again.skipped).toEqual(['zero', 'one']);
    expect(again.failed.map((f) => f.method)).toEqual(['nan']);
    expect(workerOut.text.match(/nan\/seed-0: FAILED/g)).toHaveLength(2 * CELL_ATTEMPTS);
  });
});
