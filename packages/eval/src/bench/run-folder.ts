/**
 * Layout of a run folder:
 *
 *   <run>/run.json                         config, its hash, the command (written first)
 *   <run>/methods/<name>/checkpoints/      core's trainer checkpoints (latest.json, step-…/)
 *   <run>/methods/<name>/timing.json       training wall time up to the last checkpoint
 *   <run>/methods/<name>/evaluations.json  figures evaluated so far (an interrupted run keeps them)
 *   <run>/methods/<name>/result.json       the method's record: its presence means "done"
 *   <run>/results.json, report.md, report.html
 *
 * Every file is written atomically, so a killed run leaves only whole files; what exists is
 * either done or resumable.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonIfExists, writeJsonAtomic } from '../io/atomic.js';
import { UsageError } from '../usage-error.js';
import { CONFIG_FORMAT, type BenchConfig } from './config.js';

export const RUN_FILE = 'run.json';
export const RESULTS_FILE = 'results.json';
export const REPORT_MD = 'report.md';
export const REPORT_HTML = 'report.html';

export interface RunRecord {
  format: typeof CONFIG_FORMAT;
  configHash: string;
  config: BenchConfig;
  createdAt: string;
  command: string;
}

export class RunFolder {
  constructor(readonly dir: string) {}

  get runFile(): string {
    return join(this.dir, RUN_FILE);
  }

  methodDir(method: string): string {
    return join(this.dir, 'methods', method);
  }

  checkpointDir(method: string): string {
    return join(this.methodDir(method), 'checkpoints');
  }

  timingFile(method: string): string {
    return join(this.methodDir(method), 'timing.json');
  }

  evaluationsFile(method: string): string {
    return join(this.methodDir(method), 'evaluations.json');
  }

  resultFile(method: string): string {
    return join(this.methodDir(method), 'result.json');
  }

  file(name: string): string {
    return join(this.dir, name);
  }

  /**
   * The run already in the folder (same settings), or undefined for a missing or empty folder.
   * Refuses a folder that holds another run or something that is not a run. Writes nothing.
   */
  async check(configHash: string): Promise<RunRecord | undefined> {
    if (!existsSync(this.dir)) return undefined;
    if (!statSync(this.dir).isDirectory())
      throw new UsageError(`--out ${this.dir} is a file, not a folder`);
    const record = await readJsonIfExists<RunRecord>(this.runFile);
    if (!record) {
      if (readdirSync(this.dir).length > 0)
        throw new UsageError(
          `--out ${this.dir} is not empty and holds no ${RUN_FILE}; give a new or empty folder`,
        );
      return undefined;
    }
    if (record.configHash !== configHash)
      throw new UsageError(
        `--out ${this.dir} holds a run with other settings (config ${record.configHash}, this one ${configHash}); give another --out or rerun that run's command`,
      );
    return record;
  }

  async writeRun(record: RunRecord): Promise<void> {
    await writeJsonAtomic(this.runFile, record);
  }
}
