/**
 * A cell's folder and what it keeps between processes: core's checkpoints, the record that marks
 * it done, the training wall time so far, and the finished parts of its evaluation (so a cell
 * killed during evaluation redoes only the part it was in). The same class serves a local run
 * (the folder is under the run folder) and a queue worker (under its shared store).
 */
import { join } from 'node:path';
import { writeJsonAtomic } from '../io/atomic.js';
import { readStateFile } from '../io/state-file.js';

export const RESULT_FILE = 'result.json';
const EVALUATION_FILE = 'evaluations.json';
const TIMING_FILE = 'timing.json';

export interface CellTiming {
  /** Training wall time up to the last checkpoint, summed over processes. */
  trainWallMs: number;
  /** Steps that later processes resumed from. */
  resumedFrom: number[];
}

export class CellStore {
  private parts: Record<string, unknown> | undefined;

  constructor(readonly dir: string) {}

  get checkpointDir(): string {
    return join(this.dir, 'checkpoints');
  }

  get resultFile(): string {
    return join(this.dir, RESULT_FILE);
  }

  private stateFile(name: string): string {
    return join(this.dir, 'state', name);
  }

  /** The cell's record when it is done. */
  async readResult<T>(): Promise<T | undefined> {
    return readStateFile<T>(
      this.resultFile,
      'delete it and rerun: the cell is then evaluated again from its last checkpoint',
    );
  }

  async writeResult(record: unknown): Promise<void> {
    await writeJsonAtomic(this.resultFile, record);
  }

  async readTiming(): Promise<CellTiming> {
    return (
      (await readStateFile<CellTiming>(
        this.stateFile(TIMING_FILE),
        'delete it and rerun (only the reported training time of this cell is lost)',
        (v) => (typeof (v as CellTiming).trainWallMs === 'number' ? undefined : 'no trainWallMs'),
      )) ?? { trainWallMs: 0, resumedFrom: [] }
    );
  }

  async writeTiming(timing: CellTiming): Promise<void> {
    await writeJsonAtomic(this.stateFile(TIMING_FILE), timing);
  }

  /**
   * The value of one part of the evaluation: computed once, then kept. `key` names the part
   * (`sliding@256`); values must be JSON.
   */
  async part<T>(key: string, compute: () => Promise<T>): Promise<T> {
    this.parts ??=
      (await readStateFile<Record<string, unknown>>(
        this.stateFile(EVALUATION_FILE),
        'delete it and rerun: the evaluations it held are computed again',
      )) ?? {};
    if (key in this.parts) return this.parts[key] as T;
    const value = await compute();
    this.parts[key] = value;
    await writeJsonAtomic(this.stateFile(EVALUATION_FILE), this.parts);
    return value;
  }
}
