/**
 * `posenc bench <task> … --queue URL`: the run is opened as a local one is (lock, run.json,
 * cells already done), every unfinished cell is enqueued as a BullMQ job whose id is the cell's
 * key, and the coordinator shows the workers' progress and collects each cell's record from its
 * job's result — into the run folder, so a rerun knows it — until every cell is done or has
 * failed; then it writes `results.json` and the reports like a local run. It never reads the
 * workers' store.
 *
 * A rerun of the same command attaches: a job already queued, running or done is the same job
 * (same id), so nothing is trained twice; a cell that failed is queued again, as a local rerun
 * would run it again. Events can be missed (an outage, a coordinator started late), so the
 * coordinator also asks for the state of the jobs it waits for every few seconds, and enqueues
 * again a job the queue lost (a Redis restarted without persistence).
 */
import { Queue, QueueEvents } from 'bullmq';
import { cellPath, type Cell } from '../run/cell.js';
import { CellStore } from '../run/cell-store.js';
import { benchResults, writeResults } from '../run/bench-results.js';
import { openRun } from '../run/open-run.js';
import type { PreparedBench } from '../run/prepare-bench.js';
import { silentProgress, type RunProgress } from '../run/progress.js';
import type { BenchResults, CellRecord, FailedCell } from '../run/results.js';
import { cellLabel, type BenchOutcome } from '../run/run-bench.js';
import {
  CELL_JOB_OPTIONS,
  cellJobId,
  JOB_NAME,
  QUEUE_NAME,
  type CellJobData,
  type CellProgress,
} from './cell-job.js';
import { showProgress } from './job-progress.js';
import { redactUrl, type QueueAddress } from './queue-url.js';
import { connectionLog, errorText, redisClient, waitForQueue } from './redis-client.js';

export interface QueuedBenchOptions {
  address: QueueAddress;
  progress?: RunProgress;
  /** Stops waiting: the results so far are written; the cells go on on the workers. */
  signal?: AbortSignal;
  /** How often the states of the jobs waited for are checked. */
  pollMs?: number;
}

interface Pending<C> {
  cell: Cell<C>;
  label: string;
  index: number;
}

const POLL_MS = 2000;

function untilAborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** The engine the cells ran on: the workers', named together when they differ. */
function cellsEngine<C, D>(
  prepared: PreparedBench<C, D>,
  records: Iterable<CellRecord>,
): { engine: BenchResults['engine']; warnings: string[] } {
  const engines = new Map<string, BenchResults['engine']>();
  for (const r of records) {
    const e = r.worker
      ? { engine: r.worker.engine, backend: r.worker.backend }
      : { engine: prepared.engine.engine, backend: prepared.engine.backend };
    engines.set(`${e.engine}/${e.backend}`, e);
  }
  const all = [...engines.values()];
  if (all.length <= 1)
    return {
      engine: all[0] ?? { engine: prepared.engine.engine, backend: prepared.engine.backend },
      warnings: [],
    };
  return {
    engine: {
      engine: all.map((e) => e.engine).join(' + '),
      backend: all.map((e) => e.backend).join(' + '),
    },
    warnings: [
      `the cells ran on different engines (${[...engines.keys()].join(', ')}), whose figures differ in the last digits; set POSENC_BACKEND the same on every worker`,
    ],
  };
}

/** A job's result checked against the cell it was queued for. */
function recordOf(value: unknown, cell: Cell): CellRecord {
  const record = value as CellRecord | null;
  if (
    !record ||
    typeof record !== 'object' ||
    record.method !== cell.method ||
    record.seed !== cell.seed ||
    typeof record.metrics !== 'object'
  )
    throw new Error(`the job's result is not the record of ${cellPath(cell)}`);
  return record;
}

export async function runQueuedBench<C, D>(
  prepared: PreparedBench<C, D>,
  options: QueuedBenchOptions,
): Promise<BenchOutcome<C>> {
  const started = performance.now();
  const { address, signal } = options;
  const progress = options.progress ?? silentProgress;
  const note = (line: string) => progress.note(redactUrl(line));
  const { folder, harness } = prepared;
  const { lock, cells, done } = await openRun(prepared, progress);
  const log = connectionLog(address, note);
  const client = redisClient(address, 'posenc-coordinator', log);
  const eventsClient = redisClient(address, 'posenc-coordinator-events', log);
  let queue: Queue | undefined;
  let events: QueueEvents | undefined;
  let poll: NodeJS.Timeout | undefined;
  try {
    const records = new Map<string, CellRecord>();
    const failed: FailedCell[] = [];
    const skipped: string[] = [];
    const pending = new Map<string, Pending<C>>();
    for (const [index, cell] of cells.entries()) {
      const label = cellLabel(cell, prepared.seeds);
      const finished = done.get(cellPath(cell));
      if (finished) {
        records.set(cellPath(cell), finished);
        skipped.push(label);
        progress.cellSkipped(label, 'done in an earlier run');
      } else pending.set(cellJobId(cell), { cell, label, index });
    }

    if (pending.size > 0) {
      await Promise.race([waitForQueue(client, address), untilAborted(signal)]);
      if (!signal?.aborted) {
        const q = new Queue(QUEUE_NAME, { connection: client });
        queue = q;
        q.on('error', (e) => log.problem(e));
        const ev = new QueueEvents(QUEUE_NAME, { connection: eventsClient });
        events = ev;
        ev.on('error', (e) => log.problem(e));

        let allSettled!: () => void;
        const settledAll = new Promise<void>((resolve) => (allSettled = resolve));
        const settling = new Set<string>();
        const settle = async (id: string) => {
          const p = pending.get(id);
          if (!p || settling.has(id)) return;
          settling.add(id);
          try {
            const job = await q.getJob(id);
            const state = job ? await job.getState() : 'unknown';
            if (!job || !pending.has(id)) return;
            if (state === 'completed') {
              let record: CellRecord;
              try {
                record = recordOf(job.returnvalue, p.cell);
              } catch (e) {
                failed.push({ method: p.cell.method, seed: p.cell.seed, error: errorText(e) });
                pending.delete(id);
                progress.cellFailed(p.label, errorText(e));
                return;
              }
              await new CellStore(folder.cellDir(p.cell)).writeResult(record);
              records.set(cellPath(p.cell), record);
              pending.delete(id);
              const where = record.worker
                ? ` (${record.worker.host} pid ${record.worker.pid})`
                : '';
              progress.cellFinished(p.label, `${harness.summarize?.(record) ?? 'done'}${where}`);
            } else if (state === 'delayed' || state === 'waiting') {
              // A failed attempt BullMQ will retry.
              if (job.failedReason)
                note(
                  `${p.label}: attempt ${job.attemptsMade} failed (${redactUrl(job.failedReason)}); retried`,
                );
            } else if (state === 'failed') {
              const error = `${redactUrl(job.failedReason || 'failed without a reason')} (after ${job.attemptsMade} attempt(s))`;
              failed.push({ method: p.cell.method, seed: p.cell.seed, error });
              pending.delete(id);
              progress.cellFailed(p.label, error);
            }
          } finally {
            settling.delete(id);
            if (pending.size === 0) allSettled();
          }
        };
        const jobOf = (p: Pending<C>) => ({
          name: JOB_NAME,
          data: { cell: p.cell, index: p.index, total: cells.length } satisfies CellJobData,
          opts: { ...CELL_JOB_OPTIONS, jobId: cellJobId(p.cell) },
        });

        ev.on('progress', ({ jobId, data }) => {
          const p = pending.get(jobId);
          if (p && data && typeof data === 'object')
            showProgress(progress, { ...p, total: cells.length }, data as CellProgress);
        });
        ev.on('completed', ({ jobId }) => void settle(jobId).catch((e) => log.problem(e)));
        ev.on('failed', ({ jobId }) => void settle(jobId).catch((e) => log.problem(e)));
        ev.on('stalled', ({ jobId }) => {
          const p = pending.get(jobId);
          if (p) note(`${p.label}: its worker stopped answering; it goes to another worker`);
        });
        await ev.waitUntilReady();

        // A cell that failed in an earlier run is queued again, as a local rerun runs it again.
        const states = await Promise.all([...pending.keys()].map((id) => q.getJobState(id)));
        let attached = 0;
        for (const [i, id] of [...pending.keys()].entries()) {
          if (states[i] === 'failed') {
            await (await q.getJob(id))?.remove();
            note(`${pending.get(id)!.label}: failed in an earlier run; queued again`);
          } else if (states[i] !== 'unknown') attached++;
        }
        await q.addBulk([...pending.values()].map(jobOf));
        note(
          `queue ${address.shown}: ${pending.size - attached} cell(s) queued${attached ? `, ${attached} already queued, running or done` : ''}; start workers with: posenc worker --queue URL --store DIR`,
        );

        // Events can be missed: the states of the jobs waited for are checked now and then.
        let polling = false;
        const check = async () => {
          if (polling) return;
          polling = true;
          try {
            const ids = [...pending.keys()];
            const now = await Promise.all(ids.map((id) => q.getJobState(id)));
            const lost = ids.filter((_, i) => now[i] === 'unknown');
            if (lost.length) {
              for (const id of lost)
                note(`${pending.get(id)!.label}: the queue lost its job; queued again`);
              await q.addBulk(
                lost.flatMap((id) => (pending.has(id) ? [jobOf(pending.get(id)!)] : [])),
              );
            }
            await Promise.all(
              ids.filter((_, i) => now[i] === 'completed' || now[i] === 'failed').map(settle),
            );
          } catch (e) {
            log.problem(e);
          } finally {
            polling = false;
          }
        };
        await check();
        poll = setInterval(() => void check(), options.pollMs ?? POLL_MS);
        if (pending.size > 0) await Promise.race([settledAll, untilAborted(signal)]);
      }
    }

    const { engine, warnings } = cellsEngine(prepared, records.values());
    const order = (f: FailedCell) =>
      cells.findIndex((c) => c.method === f.method && c.seed === f.seed);
    const results = benchResults(prepared, {
      records,
      failed: failed.sort((a, b) => order(a) - order(b)),
      wallMs: performance.now() - started,
      engine,
      warnings,
    });
    await writeResults(prepared, results);
    return { results, folder: folder.dir, skipped, failed };
  } finally {
    clearInterval(poll);
    await events?.close().catch(() => undefined);
    await queue?.close().catch(() => undefined);
    client.disconnect();
    eventsClient.disconnect();
    await lock.release();
  }
}
