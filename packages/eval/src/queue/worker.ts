/**
 * `posenc worker`: takes cells from the queue one at a time (a process trains one cell at a
 * time: two training loops in one TF.js engine would dispose each other's tensors), runs each
 * with `CellRunner`, reports progress on the job and returns the cell's record as the job's
 * result. BullMQ's lock on the job is renewed while the cell runs; when it lapses — the worker
 * was killed, or stopped answering for the stall timeout — BullMQ's stalled-job check hands the
 * job to another worker, which resumes the cell from its newest checkpoint in the store.
 *
 * Stopping (Ctrl-C, SIGTERM): the cell in hand stops at the next step with its state
 * checkpointed, its job goes back to the queue for another worker, and the worker exits.
 */
import { cpus, hostname } from 'node:os';
import { WaitingError, Worker, type Job } from 'bullmq';
import type { EngineChoice } from '@posenc/core';
import { findHarness } from '../harnesses/index.js';
import { cellPath } from '../run/cell.js';
import type { AnyHarness } from '../run/harness.js';
import type { RunProgress } from '../run/progress.js';
import type { CellRecord, WorkerInfo } from '../run/results.js';
import { parseCellJob, QUEUE_NAME, type CellProgress } from './cell-job.js';
import { CellRunner } from './cell-runner.js';
import { jobProgress, teeProgress } from './job-progress.js';
import { redactUrl, type QueueAddress } from './queue-url.js';
import { connectionLog, errorText, redisClient, waitForQueue } from './redis-client.js';

export interface WorkerOptions {
  address: QueueAddress;
  /** The folder of the cells' state, the same for every worker. */
  store: string;
  /**
   * How long a worker may stay silent (its event loop blocked by a step, or cut off from Redis)
   * before its cell goes to another worker: BullMQ's lock duration and stalled-job interval.
   */
  stallTimeoutMs: number;
  /** The engine this process trains on (started by the caller). */
  engine: EngineChoice;
  /** The worker's command line, redacted, for the cells' lock files. */
  command: string;
  /** This worker's own output. */
  progress: RunProgress;
  /** Stops the worker (see above). */
  signal: AbortSignal;
  /** Tasks by name: the CLI's harnesses by default. */
  findHarness?: (task: string) => AnyHarness | undefined;
  /** Called once the worker is connected and takes cells. */
  onReady?: () => void;
}

/** A cell that stalls more often than this (it crashes every worker that takes it) fails. */
const MAX_STALLS = 3;

export function workerInfo(engine: EngineChoice): WorkerInfo {
  return {
    host: hostname(),
    pid: process.pid,
    engine: engine.engine,
    backend: engine.backend,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
  };
}

/** Runs until `signal` is aborted. */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const { address, progress, signal } = options;
  const note = (line: string) => progress.note(redactUrl(line));
  const log = connectionLog(address, note);
  const connection = redisClient(address, 'posenc-worker', log);
  const info = workerInfo(options.engine);
  const name = `${info.host} pid ${info.pid}`;
  const harnessOf = options.findHarness ?? findHarness;
  const runner = new CellRunner({
    store: options.store,
    findHarness: harnessOf,
    worker: info,
    command: options.command,
    stallTimeoutMs: options.stallTimeoutMs,
  });
  let worker: Worker | undefined;
  try {
    await Promise.race([
      waitForQueue(connection, address),
      new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true })),
    ]);
    if (signal.aborted) return;
    let inHand = 0;
    const processCell = async (job: Job, token: string | undefined): Promise<CellRecord> => {
      const data = parseCellJob(job.data);
      const label = cellPath(data.cell);
      const report = (event: CellProgress) =>
        void job.updateProgress(event).catch((e: unknown) => log.problem(e));
      const cellProgress = teeProgress(progress, jobProgress(name, report));
      note(`job ${job.id}: ${data.cell.run} ${label} (attempt ${job.attemptsMade + 1})`);
      let record: CellRecord | undefined;
      try {
        record = await runner.run(data, cellProgress, signal);
      } catch (e) {
        const error = errorText(e);
        progress.cellFailed(label, error);
        throw new Error(error);
      }
      if (!record) {
        // Stopping: the cell is checkpointed; the job goes back for another worker.
        await job.moveToWait(token);
        note(`${label}: stopped and checkpointed; back in the queue`);
        throw new WaitingError();
      }
      progress.cellFinished(label, harnessOf(data.cell.task)?.summarize?.(record) ?? 'done');
      return record;
    };
    worker = new Worker(
      QUEUE_NAME,
      async (job: Job, token?: string) => {
        inHand++;
        try {
          return await processCell(job, token);
        } finally {
          inHand--;
        }
      },
      {
        connection,
        concurrency: 1,
        autorun: false,
        lockDuration: options.stallTimeoutMs,
        stalledInterval: options.stallTimeoutMs,
        maxStalledCount: MAX_STALLS,
      },
    );
    worker.on('error', (e) => log.problem(e));
    worker.on('stalled', (jobId) =>
      note(`job ${jobId}: its worker stopped answering; back in the queue for another worker`),
    );
    worker.on('lockRenewalFailed', (jobIds) =>
      note(
        `lost the queue's lock on job ${jobIds.join(', ')}; the cell goes on here (its lock in the store keeps other workers off it)`,
      ),
    );
    void worker.run().catch((e: unknown) => log.problem(e));
    await worker.waitUntilReady();
    note(
      `posenc worker ${name}: queue ${address.shown}, store ${options.store}, ${info.engine} engine; waiting for cells`,
    );
    options.onReady?.();
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    note(
      inHand ? 'stopping: the cell in hand is checkpointed and goes back to the queue' : 'stopping',
    );
    await worker.close();
  } finally {
    connection.disconnect();
  }
}
