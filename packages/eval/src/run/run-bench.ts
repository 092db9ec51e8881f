/**
 * A local run: takes the run folder's lock, records the run, then runs every cell that is not
 * done yet — seed by seed, so the first seed's table is complete before the second starts — in
 * this process, and writes `results.json`, `report.md` and `report.html` from the cells' records.
 */
import { cpus } from 'node:os';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { makeFolder } from '../io/folder.js';
import { removeStrayTempFiles } from '../io/state-file.js';
import { renderReport } from '../report/render.js';
import { cellPath, type Cell } from './cell.js';
import { CellStore } from './cell-store.js';
import { acquireLock } from './lock.js';
import type { PreparedBench } from './prepare-bench.js';
import { silentProgress, type RunProgress } from './progress.js';
import type { BenchResults, CellRecord, FailedCell } from './results.js';
import { REPORT_HTML, REPORT_MD, RESULTS_FILE } from './run-folder.js';
import { runCell } from './run-cell.js';
import { packageVersions } from './versions.js';

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

/** The cells of a run in the order they run: seed by seed, methods in table order. */
export function runCells<C, D>(prepared: PreparedBench<C, D>): Cell<C>[] {
  return prepared.seeds.flatMap((seed) =>
    prepared.rows.map(({ row }) => ({
      task: prepared.harness.task,
      run: prepared.runName,
      configHash: prepared.configHash,
      config: prepared.config,
      method: row.name,
      seed,
      checkpointEvery: prepared.checkpointEvery,
    })),
  );
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
  await makeFolder(folder.dir);
  const lock = await acquireLock(folder.lockFile, folder.what, prepared.command, (l) =>
    progress.note(l),
  );
  try {
    for (const line of prepared.notes) progress.note(line);
    for (const warning of prepared.warnings) progress.note(`warning: ${warning}`);
    for (const path of await removeStrayTempFiles(folder.dir))
      progress.note(`removed ${path}, left by a process that was killed while writing it`);
    if (!prepared.existingRun)
      await folder.writeRun({
        format: prepared.format,
        task: harness.task,
        configHash: prepared.configHash,
        config: prepared.config,
        createdAt: new Date().toISOString(),
        command: prepared.command,
      });
    for (const [name, contents] of Object.entries(
      harness.runFiles?.(prepared.config, prepared.data) ?? {},
    ))
      await writeFileAtomic(folder.file(name), contents);
    const cells = runCells(prepared);
    // Every finished cell's record is read first, so a corrupt one stops the run before it starts.
    const done = new Map<string, CellRecord>();
    for (const cell of cells) {
      const record = await new CellStore(folder.cellDir(cell)).readResult<CellRecord>();
      if (record) done.set(cellPath(cell), record);
    }
    progress.runStarted({
      task: harness.task,
      folder: folder.dir,
      methods: prepared.rows.map((r) => r.row.name),
      seeds: prepared.seeds,
      cells: cells.length,
      engine: prepared.engine.engine,
    });
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
    const ordered = prepared.rows.flatMap(({ row }) =>
      prepared.seeds.flatMap((seed) => records.get(cellPath({ method: row.name, seed })) ?? []),
    );
    const results: BenchResults<C> = {
      format: prepared.format,
      task: harness.task,
      run: prepared.runName,
      command: prepared.command,
      config: prepared.config,
      configHash: prepared.configHash,
      methods: prepared.rows.map((r) => r.row.name),
      seeds: prepared.seeds,
      cells: ordered,
      failed,
      unavailable: prepared.unavailable,
      warnings: prepared.warnings,
      data: harness.dataFacts(prepared.config, prepared.data),
      engine: { engine: prepared.engine.engine, backend: prepared.engine.backend },
      versions: packageVersions(),
      machine: {
        platform: process.platform,
        arch: process.arch,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        node: process.version,
      },
      process: {
        wallMs: performance.now() - started,
        peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      },
      writtenAt: new Date().toISOString(),
    };
    await writeResults(prepared, results);
    return { results, folder: folder.dir, skipped, failed };
  } finally {
    await lock.release();
  }
}

/** results.json and both reports, each written whole. */
export async function writeResults<C, D>(
  prepared: PreparedBench<C, D>,
  results: BenchResults<C>,
): Promise<void> {
  const { folder, harness } = prepared;
  const { markdown, html } = await renderReport(harness, results);
  await writeJsonAtomic(folder.file(RESULTS_FILE), results);
  await writeFileAtomic(folder.file(REPORT_MD), markdown);
  await writeFileAtomic(folder.file(REPORT_HTML), html);
}
