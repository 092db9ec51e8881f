/**
 * A worker runs a cell from its job data alone, on the same code path as a local run: the
 * harness found by the cell's task, the method row resolved by name (once per process), the
 * data loaded once per config, and `runCell` with a `CellStore` at
 * `<store>/<run>/cells/<method>/seed-<n>` — under the cell's lock, so two workers never train
 * it at once, and a cell the store already holds as done is returned, not trained again.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { makeFolder } from '../io/folder.js';
import { readStateFile, removeStrayTempFiles } from '../io/state-file.js';
import { cellPath, type Cell } from '../run/cell.js';
import { CellStore } from '../run/cell-store.js';
import { configHash, resultsFormat } from '../run/config-hash.js';
import type { AnyHarness, MethodRow, SessionFactory, TrainingSession } from '../run/harness.js';
import { resolveRows } from '../run/methods.js';
import { loadDataOnce } from '../run/prepare-bench.js';
import type { RunProgress } from '../run/progress.js';
import type { CellRecord, WorkerInfo } from '../run/results.js';
import { RunFolder, type RunRecord } from '../run/run-folder.js';
import { runCell } from '../run/run-cell.js';
import { writeJsonAtomic } from '../io/atomic.js';
import type { CellJobData } from './cell-job.js';
import { lockCell } from './cell-lock.js';

export interface CellRunnerOptions {
  /** The folder every worker sees (a network mount in practice). */
  store: string;
  findHarness: (task: string) => AnyHarness | undefined;
  /** This worker, for the cells' records. */
  worker: WorkerInfo;
  /** The worker's command line (redacted), written into the cells' lock files. */
  command: string;
  /** The queue's stall timeout: a cell lock's heartbeat and staleness are derived from it. */
  stallTimeoutMs: number;
}

interface RunnableRow {
  row: MethodRow<unknown, unknown, TrainingSession>;
  factory: SessionFactory<unknown, unknown, TrainingSession>;
}

/** How often a worker waiting for a cell's lock looks again. */
const LOCK_POLL_MS = 500;

export class CellRunner {
  private readonly rows = new Map<string, Promise<RunnableRow>>();

  constructor(private readonly options: CellRunnerOptions) {}

  /** The store's folder of a run (`<store>/<run>`). */
  runFolder(cell: Pick<Cell, 'run'>): RunFolder {
    return new RunFolder(join(this.options.store, cell.run), `the store's run ${cell.run}`);
  }

  /** The cell's record, or undefined when `signal` stopped it (its state is checkpointed). */
  async run(
    job: CellJobData,
    progress: RunProgress,
    signal: AbortSignal,
  ): Promise<CellRecord | undefined> {
    const { cell } = job;
    const label = cellPath(cell);
    const harness = this.options.findHarness(cell.task);
    if (!harness) throw new Error(`this worker has no task '${cell.task}'`);
    const format = resultsFormat(harness.task, harness.version);
    const hash = configHash(format, cell.config as object);
    if (hash !== cell.configHash)
      throw new Error(
        `the cell's settings hash to ${hash} on this worker but to ${cell.configHash} where it was queued: run the same posenc version (results format ${format}) on the coordinator and every worker`,
      );
    const folder = this.runFolder(cell);
    await makeFolder(folder.dir);
    await this.checkRun(folder, cell, format);
    const dir = folder.cellDir(cell);
    await makeFolder(dir);
    const { stallTimeoutMs } = this.options;
    const lock = await lockCell(dir, {
      command: this.options.command,
      heartbeatMs: Math.max(1000, stallTimeoutMs / 4),
      staleAfterMs: 2 * stallTimeoutMs,
      pollMs: LOCK_POLL_MS,
      onWait: (h) =>
        progress.note(
          `${label}: pid ${h.pid} on ${h.host} holds the cell (the queue took it for gone); waiting for it`,
        ),
      onTakeover: (h) =>
        progress.note(
          `${label}: taking the cell over from pid ${h.pid} on ${h.host}, which is gone`,
        ),
      signal,
    });
    if (!lock) return undefined;
    try {
      for (const path of await removeStrayTempFiles(dir))
        progress.note(`removed ${path}, left by a process that was killed while writing it`);
      const store = new CellStore(dir);
      const done = await store.readResult<CellRecord>();
      if (done) {
        progress.note(`${label}: already done in the store`);
        return done;
      }
      const { row, factory } = await this.row(harness, cell.method);
      const problem = row.checkConfig?.(cell.config);
      if (problem) throw new Error(problem);
      const data = await loadDataOnce(harness, format, hash, cell.config);
      return await runCell({
        harness,
        cell,
        row,
        factory,
        data,
        store,
        progress,
        label,
        index: job.index,
        total: job.total,
        signal,
        worker: this.options.worker,
      });
    } finally {
      await lock.release();
    }
  }

  /**
   * The store's run folder belongs to one run: a coordinator's `--out` that names another run's
   * folder would otherwise mix its cells into that run's.
   */
  private async checkRun(folder: RunFolder, cell: Cell, format: string): Promise<void> {
    const remedy = 'it records which run the folder holds: restore it or delete the folder';
    let record = await readStateFile<RunRecord>(folder.runFile, remedy);
    if (!record) {
      await writeJsonAtomic(folder.runFile, {
        format,
        task: cell.task,
        configHash: cell.configHash,
        config: cell.config,
        createdAt: new Date().toISOString(),
        command: `queued cells, first run by ${this.options.command}`,
      } satisfies RunRecord);
      // Two workers may create it at once: the one read back is what the folder holds.
      record = (await readStateFile<RunRecord>(folder.runFile, remedy))!;
    }
    if (record.configHash !== cell.configHash || record.format !== format)
      throw new Error(
        `${folder.dir} holds the run ${record.format} ${record.configHash}, not this cell's ${format} ${cell.configHash}: two runs with other settings have the same name (--out); give the coordinator another --out`,
      );
  }

  /** The method's row, prepared once per process. */
  private row(harness: AnyHarness, method: string): Promise<RunnableRow> {
    const key = `${harness.task}/${method}`;
    let row = this.rows.get(key);
    if (!row) {
      row = (async () => {
        const known = (await harness.methods()) as MethodRow<unknown, unknown, TrainingSession>[];
        const found = known.find((r) => r.name === method);
        if (!found) throw new Error(`this worker's ${harness.task} task has no method '${method}'`);
        const [resolved] = await resolveRows([found]);
        if (!resolved!.available)
          throw new Error(`${method} is unavailable on ${hostname()}: ${resolved!.reason}`);
        return { row: found, factory: resolved!.factory };
      })();
      this.rows.set(key, row);
      row.catch(() => this.rows.delete(key));
    }
    return row;
  }
}
