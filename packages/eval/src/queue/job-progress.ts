/**
 * A cell's progress over the queue: the worker reports it on the job (as `CellProgress`
 * events, the training steps thinned to the tenths the coordinator prints and about one a
 * second for its bar), and the coordinator replays them into its own progress display.
 */
import type { ProgressEvent } from '@posenc/core';
import type { RunProgress } from '../run/progress.js';
import type { CellProgress } from './cell-job.js';

/** Every call goes to each of the reporters. */
export function teeProgress(...reporters: RunProgress[]): RunProgress {
  const each =
    <K extends keyof RunProgress>(key: K) =>
    (...args: Parameters<RunProgress[K]>) => {
      for (const r of reporters) (r[key] as (...a: Parameters<RunProgress[K]>) => void)(...args);
    };
  return {
    runStarted: each('runStarted'),
    cellSkipped: each('cellSkipped'),
    cellStarted: each('cellStarted'),
    trainStep: each('trainStep'),
    evaluated: each('evaluated'),
    cellFinished: each('cellFinished'),
    cellFailed: each('cellFailed'),
    note: each('note'),
  };
}

const STEP_INTERVAL_MS = 1000;

/** Whether a step is one the coordinator prints as a line (every tenth, and the last). */
function printedStep(e: ProgressEvent): boolean {
  const every = Math.max(1, Math.round(e.totalSteps / 10));
  return (e.step + 1) % every === 0 || e.step + 1 === e.totalSteps;
}

/** A worker's progress for one job, sent with `report` (which must not throw or wait). */
export function jobProgress(worker: string, report: (event: CellProgress) => void): RunProgress {
  let lastStep = -Infinity;
  return {
    runStarted: () => {},
    cellSkipped: () => {},
    cellStarted: (_cell, _index, _total, resumedFrom) =>
      report({ type: 'started', worker, ...(resumedFrom !== undefined && { resumedFrom }) }),
    trainStep: (_cell, event) => {
      const now = performance.now();
      if (!printedStep(event) && now - lastStep < STEP_INTERVAL_MS) return;
      lastStep = now;
      report({ type: 'step', event });
    },
    evaluated: (_cell, line) => report({ type: 'evaluated', line }),
    // The job's completion or failure says these.
    cellFinished: () => {},
    cellFailed: () => {},
    note: (line) => report({ type: 'note', line }),
  };
}

/** The coordinator's display of one reported event of a cell. */
export function showProgress(
  progress: RunProgress,
  cell: { label: string; index: number; total: number },
  event: CellProgress,
): void {
  switch (event.type) {
    case 'started':
      progress.note(`${cell.label}: taken by ${event.worker}`);
      progress.cellStarted(cell.label, cell.index, cell.total, event.resumedFrom);
      return;
    case 'step':
      progress.trainStep(cell.label, event.event);
      return;
    case 'evaluated':
      progress.evaluated(cell.label, event.line);
      return;
    case 'note':
      progress.note(event.line);
  }
}
