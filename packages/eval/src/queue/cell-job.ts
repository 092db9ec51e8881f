/**
 * A cell as a BullMQ job: its data is the `Cell` JSON (with its place in the run, for progress
 * lines), its id is the cell's key — so enqueueing a run twice adds nothing, and a coordinator
 * that is run again finds the jobs it queued — and its result is the cell's record. Workers
 * report progress on the job as the events below.
 */
import type { ProgressEvent } from '@posenc/core';
import { cellKey, METHOD_NAME, type Cell } from '../run/cell.js';

/** One queue for every task and run: job ids are unique across runs. */
export const QUEUE_NAME = 'posenc-cells';
export const JOB_NAME = 'cell';

/** BullMQ's retries of a cell that failed (after the first attempt). */
export const CELL_ATTEMPTS = 3;
const RETRY_DELAY_MS = 2000;
/** Finished jobs are kept a week, so a coordinator run again within it finds their records. */
const KEEP_SECONDS = 7 * 24 * 3600;

export const CELL_JOB_OPTIONS = {
  attempts: CELL_ATTEMPTS,
  backoff: { type: 'fixed', delay: RETRY_DELAY_MS },
  removeOnComplete: { age: KEEP_SECONDS },
  removeOnFail: { age: KEEP_SECONDS },
} as const;

export interface CellJobData {
  cell: Cell;
  /** The cell's place in the run, for `[i/n]` in progress lines. */
  index: number;
  total: number;
}

/** What a worker reports on a job while it runs the cell. */
export type CellProgress =
  | { type: 'started'; worker: string; resumedFrom?: number }
  | { type: 'step'; event: ProgressEvent }
  | { type: 'evaluated'; line: string }
  | { type: 'note'; line: string };

export const cellJobId = cellKey;

/** A run folder's name as a folder of the store: one path segment. */
const RUN_NAME = /^(?!\.\.?$)[^/\\\0]+$/;

/** The job's data checked field by field: a job from elsewhere is refused with what is wrong. */
export function parseCellJob(data: unknown): CellJobData {
  const fail = (field: string, value: unknown, expected: string) =>
    new Error(`job data: ${field} is ${JSON.stringify(value)}; expected ${expected}`);
  const job = data as Partial<CellJobData> | null;
  if (!job || typeof job !== 'object') throw fail('the data', data, 'an object');
  const cell = job.cell as Partial<Cell> | undefined;
  if (!cell || typeof cell !== 'object') throw fail('cell', cell, 'an object');
  const text = (field: keyof Cell, pattern: RegExp, expected: string) => {
    const value = cell[field];
    if (typeof value !== 'string' || !pattern.test(value))
      throw fail(`cell.${field}`, value, expected);
  };
  text('task', /^[a-z][a-z0-9-]*$/, 'a task name');
  text('run', RUN_NAME, 'a run folder name');
  text('configHash', /^[0-9a-f]{10}$/, 'ten hex digits');
  text('method', METHOD_NAME, 'a method name');
  if (!cell.config || typeof cell.config !== 'object')
    throw fail('cell.config', cell.config, 'an object');
  const integer = (field: string, value: unknown, min: number) => {
    if (!Number.isSafeInteger(value) || (value as number) < min)
      throw fail(field, value, `an integer ≥ ${min}`);
  };
  integer('cell.seed', cell.seed, 0);
  integer('cell.checkpointEvery', cell.checkpointEvery, 1);
  integer('index', job.index, 0);
  integer('total', job.total, 1);
  return job as CellJobData;
}
