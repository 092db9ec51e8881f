/**
 * The start every run shares, whoever then runs its cells (this process or queue workers): the
 * run folder is made and locked, the run recorded with the harness's run files, the temp files of killed writers removed, and
 * every finished cell's record read — first, so a corrupt one stops the run before it starts.
 */
import { writeFileAtomic } from '../io/atomic.js';
import { makeFolder } from '../io/folder.js';
import { removeStrayTempFiles } from '../io/state-file.js';
import { cellPath, type Cell } from './cell.js';
import { CellStore } from './cell-store.js';
import { acquireLock, type Lock } from './lock.js';
import type { PreparedBench } from './prepare-bench.js';
import type { RunProgress } from './progress.js';
import type { CellRecord } from './results.js';

export interface OpenRun<C> {
  /** The run folder's lock: the caller releases it when the run ends. */
  lock: Lock;
  /** The cells of the run in the order they run: seed by seed, methods in table order. */
  cells: Cell<C>[];
  /** Records of the cells already done, by `cellPath`. */
  done: Map<string, CellRecord>;
}

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

export async function openRun<C, D>(
  prepared: PreparedBench<C, D>,
  progress: RunProgress,
): Promise<OpenRun<C>> {
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
    return { lock, cells, done };
  } catch (e) {
    await lock.release();
    throw e;
  }
}
