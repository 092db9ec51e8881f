/**
 * Layout of a run folder:
 *
 *   <run>/run.json                             task, config, its hash, the command (written first)
 *   <run>/run.lock                             the process working on the run (while it runs)
 *   <run>/cells/<method>/seed-<n>/checkpoints/ core's trainer checkpoints (latest.json, step-…/)
 *   <run>/cells/<method>/seed-<n>/state/       what the cell keeps between processes (timing, partial evaluations)
 *   <run>/cells/<method>/seed-<n>/result.json  the cell's record: its presence means "done"
 *   <run>/results.json, report.md, report.html
 *
 * Every file is written atomically, so a killed run leaves only whole files; what exists is
 * either done or resumable.
 */
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../io/atomic.js';
import { readStateFile } from '../io/state-file.js';
import { UsageError } from '../usage-error.js';
import { cellPath, type Cell } from './cell.js';
import { checkNotLocked } from './lock.js';

export const RUN_FILE = 'run.json';
export const LOCK_FILE = 'run.lock';
export const RESULTS_FILE = 'results.json';
export const REPORT_MD = 'report.md';
export const REPORT_HTML = 'report.html';

export interface RunRecord {
  format: string;
  task: string;
  configHash: string;
  config: unknown;
  createdAt: string;
  command: string;
}

export class RunFolder {
  /** `what` names the folder in messages: `--out results/x`. */
  constructor(
    readonly dir: string,
    readonly what: string = `--out ${dir}`,
  ) {}

  get runFile(): string {
    return join(this.dir, RUN_FILE);
  }

  get lockFile(): string {
    return join(this.dir, LOCK_FILE);
  }

  file(name: string): string {
    return join(this.dir, name);
  }

  cellDir(cell: Pick<Cell, 'method' | 'seed'>): string {
    return join(this.dir, 'cells', cellPath(cell));
  }

  /**
   * The run already in the folder (same task and settings), or undefined for a missing or empty
   * folder. Refuses a folder that holds another run or something that is not a run, and a place
   * where no folder can be made. Writes nothing.
   */
  async check(format: string, configHash: string): Promise<RunRecord | undefined> {
    const info = await stat(this.dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw new UsageError(`${this.what} cannot be used: ${e.message}`);
    });
    if (!info) return undefined;
    if (!info.isDirectory()) throw new UsageError(`${this.what} is a file, not a folder`);
    await checkNotLocked(this.lockFile, this.what);
    const record = await readStateFile<RunRecord>(
      this.runFile,
      `it records the run's settings: restore it, or delete the folder ${this.dir} (and its cells) to start over, or give another --out`,
      (v) =>
        typeof (v as RunRecord).configHash === 'string' &&
        typeof (v as RunRecord).format === 'string'
          ? undefined
          : 'no format or configHash field',
    );
    if (!record) {
      // A run killed right after taking its lock leaves only that (and perhaps a temp file).
      const entries = (await readdir(this.dir)).filter(
        (name) =>
          name !== LOCK_FILE &&
          !name.startsWith(`${LOCK_FILE}.`) &&
          !name.startsWith(`${RUN_FILE}.tmp-`),
      );
      if (entries.length > 0)
        throw new UsageError(
          `${this.what} is not empty and holds no ${RUN_FILE}; give a new or empty folder`,
        );
      return undefined;
    }
    if (record.format !== format)
      throw new UsageError(
        `${this.what} holds a run of another task or format (${record.format}, this one ${format}); give another --out`,
      );
    if (record.configHash !== configHash)
      throw new UsageError(
        `${this.what} holds a run with other settings (config ${record.configHash}, this one ${configHash}); give another --out or rerun that run's command`,
      );
    return record;
  }

  async create(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  async writeRun(record: RunRecord): Promise<void> {
    await writeJsonAtomic(this.runFile, record);
  }
}
