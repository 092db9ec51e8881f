/**
 * A local run: opens the run (lock, run.json, finished cells), then runs every cell that is not
 * done yet — seed by seed, so the first seed's table is complete before the second starts — in
 * this process, and writes `results.json`, `report.md` and `report.html` from the cells' records.
 */
import { cellPath, type Cell } from './cell.js';
import { CellStore } from './cell-store.js';
import { benchResults, writeResults } from './bench-results.js';
import { openRun } from './open-run.js';
import type { PreparedBench } from './prepare-bench.js';
import { silentProgress, type RunProgress } from './progress.js';
import type { BenchResults, CellRecord, FailedCell } from './results.js';
import { runCell } from './run-cell.js';

export { runCells } from './open-run.js';

export interface RunBenchOptions {
  progress?: RunProgress;
  signal?: AbortSignal;
}

export interface BenchOutcome<C = unknown> {
  results: BenchResults<C>;
  folder: string;
  /** Cells found done from an earlier process. */
  skipped: string[];
  failed: FailedCell[];
}

export function cellLabel(cell: Pick<Cell, 'method' | 'seed'>, seeds: readonly number[]): string {
  return seeds.length > 1 ? cellPath(cell) : cell.method;
}

export async function runBench<C, D>(
  prepared: PreparedBench<C, D>,
  options: RunBenchOptions = {},
): Promise<BenchOutcome<C>> {
  const started = performance.now();
  const progress = options.progress ?? silentProgress;
  const { folder, harness } = prepared;
  const { lock, cells, done } = await openRun(prepared, progress);
  try {
    const records = new Map<string, CellRecord>();
    const skipped: string[] = [];
    const failed: FailedCell[] = [];
    for (const [index, cell] of cells.entries()) {
      const label = cellLabel(cell, prepared.seeds);
      const store = new CellStore(folder.cellDir(cell));
      const finished = done.get(cellPath(cell));
      if (finished) {
        records.set(cellPath(cell), finished);
        skipped.push(label);
        progress.cellSkipped(label, 'done in an earlier run');
        continue;
      }
      if (options.signal?.aborted) break;
      const prepRow = prepared.rows.find((r) => r.row.name === cell.method)!;
      try {
        const record = await runCell({
          harness,
          cell,
          row: prepRow.row,
          factory: prepRow.factory,
          data: prepared.data,
          store,
          progress,
          label,
          index,
          total: cells.length,
          ...(options.signal && { signal: options.signal }),
        });
        if (record) {
          records.set(cellPath(cell), record);
          progress.cellFinished(label, harness.summarize?.(record) ?? 'done');
        }
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        failed.push({ method: cell.method, seed: cell.seed, error });
        progress.cellFailed(label, error);
      }
    }
    const results = benchResults(prepared, {
      records,
      failed,
      wallMs: performance.now() - started,
    });
    await writeResults(prepared, results);
    return { results, folder: folder.dir, skipped, failed };
  } finally {
    await lock.release();
  }
}
