/**
 * One cell: train (resuming from the cell's newest intact checkpoint), evaluate (keeping the
 * parts an interrupted process finished), then write the cell's record. Training is core's
 * `train`: every cell of a task gets the harness's optimizer, schedule and clipping, its seed,
 * and checkpoints in the cell's folder. The same function runs a cell in a local run and in a
 * queue worker.
 */
import { train } from '@posenc/core';
import type { Cell } from './cell.js';
import type { CellStore } from './cell-store.js';
import type { AnyHarness, MethodRow, SessionFactory, TrainingSession } from './harness.js';
import type { RunProgress } from './progress.js';
import type { CellRecord } from './results.js';

export interface RunCellOptions<C, D> {
  harness: AnyHarness;
  cell: Cell<C>;
  row: MethodRow<C, D, TrainingSession>;
  factory: SessionFactory<C, D, TrainingSession>;
  data: D;
  store: CellStore;
  progress: RunProgress;
  /** The cell's name in progress lines. */
  label: string;
  index: number;
  total: number;
  /** Stops training at the next step boundary (the state is checkpointed). */
  signal?: AbortSignal;
}

/** The cell's record, or undefined when it was aborted (its state is checkpointed). */
export async function runCell<C, D>(
  options: RunCellOptions<C, D>,
): Promise<CellRecord | undefined> {
  const { harness, cell, row, store, progress, label, data } = options;
  const plan = harness.training(cell.config, data);
  const session = options.factory({ config: cell.config, data, seed: cell.seed });
  try {
    const timing = await store.readTiming();
    const baseWallMs = timing.trainWallMs;
    const started = performance.now();
    let writes = Promise.resolve();
    let announced = false;
    const announce = (resumedFrom: number | undefined) => {
      announced = true;
      if (resumedFrom !== undefined && resumedFrom > 0 && !timing.resumedFrom.includes(resumedFrom))
        timing.resumedFrom.push(resumedFrom);
      progress.cellStarted(label, options.index, options.total, resumedFrom || undefined);
    };
    const result = await train({
      parameters: session.parameters(),
      steps: plan.steps,
      seed: cell.seed,
      batchAt: (step, micro) => session.batchAt(step, micro),
      loss: (batch, context) => session.loss(batch, context),
      optimizer: { lr: plan.lr, weightDecay: plan.weightDecay },
      schedule: plan.schedule,
      ...(plan.clipNorm !== undefined && { clipNorm: plan.clipNorm }),
      checkpointDir: store.checkpointDir,
      checkpointEvery: cell.checkpointEvery,
      resume: true,
      onCheckpointProblem: (line) => progress.note(`${label}: ${line}`),
      ...(options.signal && { signal: options.signal }),
      onProgress: (event) => {
        // The first step this process runs is the checkpoint it continued from.
        if (!announced) announce(event.step);
        progress.trainStep(label, event);
        if (event.checkpoint) {
          const snapshot = {
            resumedFrom: [...timing.resumedFrom],
            trainWallMs: baseWallMs + (performance.now() - started),
          };
          writes = writes.then(() => store.writeTiming(snapshot));
        }
      },
    });
    await writes;
    if (result.aborted) return undefined;
    if (!announced) announce(result.resumedFrom);
    // A process that only evaluates (training was complete) adds no training time.
    if (result.resumedFrom !== plan.steps)
      timing.trainWallMs = baseWallMs + (performance.now() - started);
    await store.writeTiming(timing);

    const evaluation = await harness.evaluate(session, {
      config: cell.config,
      data,
      seed: cell.seed,
      store,
      report: (line: string) => progress.evaluated(label, line),
    });
    const history = result.lossHistory;
    const tail = history.slice(Math.floor(history.length * 0.9));
    const units = plan.steps * plan.unitsPerStep;
    const record: CellRecord = {
      task: cell.task,
      method: cell.method,
      seed: cell.seed,
      description: row.description,
      paper: row.paper,
      package: row.package,
      notes: [...session.notes],
      training: {
        steps: plan.steps,
        lossHistory: history,
        finalLoss: tail.reduce((a, b) => a + b, 0) / tail.length,
        wallMs: timing.trainWallMs,
        resumedFrom: timing.resumedFrom,
        parameters: Object.values(session.parameters()).reduce((n, v) => n + v.size, 0),
        unit: plan.unit,
        units,
        unitsPerSecond: units / (timing.trainWallMs / 1000),
      },
      metrics: evaluation.metrics,
      details: evaluation.details,
      evalWallMs: evaluation.wallMs,
      finishedAt: new Date().toISOString(),
    };
    await store.writeResult(record);
    return record;
  } finally {
    session.dispose();
  }
}
