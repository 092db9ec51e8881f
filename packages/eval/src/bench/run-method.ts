/**
 * One row of the benchmark: train (resuming from the method's latest checkpoint), then evaluate
 * every length in both modes (keeping figures already computed by an interrupted process), then
 * write the method's record. Training is core's `train`: the same optimizer, schedule, clipping,
 * seed and checkpoints for every method.
 */
import { train } from '@posenc/core';
import { readJsonIfExists, writeJsonAtomic } from '../io/atomic.js';
import type { TokenArray } from '../data/token-array.js';
import type { PerplexityResult } from '../lm/perplexity.js';
import { EVAL_MODES, strideFor } from '../lm/windows.js';
import type { LMMethod, MethodContext, MethodFactory } from '../methods/method.js';
import type { BenchConfig } from './config.js';
import type { BenchProgress } from './progress.js';
import type { MethodRecord } from './results.js';
import type { RunFolder } from './run-folder.js';

export const WEIGHT_DECAY = 0.01;
export const CLIP_NORM = 1;
export const MIN_LR_RATIO = 0.1;

export function warmupSteps(steps: number): number {
  return Math.min(30, Math.floor(steps / 10));
}

interface Timing {
  /** Training wall time up to the last checkpoint, summed over processes. */
  trainWallMs: number;
  resumedFrom: number[];
}

export interface RunMethodOptions {
  method: LMMethod;
  factory: MethodFactory;
  context: MethodContext;
  config: BenchConfig;
  folder: RunFolder;
  segments: readonly TokenArray[];
  progress: BenchProgress;
  index: number;
  total: number;
  checkpointEvery: number;
  maxBatchTokens: number;
  /** Stops training at the next step boundary (the state is checkpointed). */
  signal?: AbortSignal;
}

export async function runMethod(options: RunMethodOptions): Promise<MethodRecord | undefined> {
  const { method, factory, context, config, folder, progress } = options;
  const name = method.name;
  const session = factory(context);
  try {
    const timing: Timing = (await readJsonIfExists<Timing>(folder.timingFile(name))) ?? {
      trainWallMs: 0,
      resumedFrom: [],
    };
    const baseWallMs = timing.trainWallMs;
    const started = performance.now();
    let writes = Promise.resolve();
    let announced = false;
    const result = await train({
      parameters: session.model.parameters(),
      steps: config.steps,
      seed: config.seed,
      batchAt: (step, micro) => session.batchAt(step, micro),
      loss: (batch, context) => session.loss(batch, context),
      optimizer: { lr: config.lr, weightDecay: WEIGHT_DECAY },
      schedule: {
        kind: 'cosine',
        warmupSteps: warmupSteps(config.steps),
        minLrRatio: MIN_LR_RATIO,
      },
      clipNorm: CLIP_NORM,
      checkpointDir: folder.checkpointDir(name),
      checkpointEvery: options.checkpointEvery,
      resume: true,
      ...(options.signal && { signal: options.signal }),
      onProgress: (event) => {
        if (!announced) {
          announced = true;
          // The first step this process runs is the checkpoint it continued from.
          const resumedFrom = event.step > 0 ? event.step : undefined;
          if (resumedFrom !== undefined && !timing.resumedFrom.includes(resumedFrom))
            timing.resumedFrom.push(resumedFrom);
          progress.methodStarted(name, options.index, options.total, resumedFrom);
        }
        progress.trainStep(name, event);
        if (event.checkpoint) {
          const snapshot: Timing = {
            resumedFrom: [...timing.resumedFrom],
            trainWallMs: baseWallMs + (performance.now() - started),
          };
          writes = writes.then(() => writeJsonAtomic(folder.timingFile(name), snapshot));
        }
      },
    });
    await writes;
    if (result.aborted) return undefined;
    if (!announced) progress.methodStarted(name, options.index, options.total, result.resumedFrom);
    // A process that only evaluates (training was complete) adds no training time.
    if (result.resumedFrom !== config.steps)
      timing.trainWallMs = baseWallMs + (performance.now() - started);
    await writeJsonAtomic(folder.timingFile(name), timing);

    const evaluations =
      (await readJsonIfExists<Record<string, PerplexityResult>>(folder.evaluationsFile(name))) ??
      {};
    for (const length of config.evalLengths) {
      for (const mode of EVAL_MODES) {
        const key = `${mode}@${length}`;
        if (!evaluations[key]) {
          evaluations[key] = await session.evaluate(options.segments, {
            mode,
            length,
            stride: strideFor(length, config.strideRatio),
            maxBatchTokens: options.maxBatchTokens,
          });
          await writeJsonAtomic(folder.evaluationsFile(name), evaluations);
        }
        progress.evaluated(name, evaluations[key]!);
      }
    }
    // Summed over the evaluations, whichever process ran them.
    const evalWallMs = Object.values(evaluations).reduce((t, e) => t + e.wallMs, 0);
    const tokens = config.steps * config.batch * config.trainLength;
    const history = result.lossHistory;
    const tail = history.slice(Math.floor(history.length * 0.9));
    const record: MethodRecord = {
      method: name,
      description: method.description,
      paper: method.paper,
      package: method.package,
      notes: [...session.notes],
      ...(session.evalModeNotes && { evalModeNotes: session.evalModeNotes }),
      training: {
        steps: config.steps,
        tokens,
        lossHistory: history,
        finalLoss: tail.reduce((a, b) => a + b, 0) / tail.length,
        wallMs: timing.trainWallMs,
        tokensPerSecond: tokens / (timing.trainWallMs / 1000),
        resumedFrom: timing.resumedFrom,
        parameters: Object.values(session.model.parameters()).reduce((n, v) => n + v.size, 0),
      },
      evaluations: config.evalLengths.flatMap((length) =>
        EVAL_MODES.map((mode) => evaluations[`${mode}@${length}`]!),
      ),
      evalWallMs,
      finishedAt: new Date().toISOString(),
    };
    await writeJsonAtomic(folder.resultFile(name), record);
    progress.methodFinished(name, summarize(record));
    return record;
  } finally {
    session.dispose();
  }
}

function summarize(record: MethodRecord): string {
  const t = record.training;
  return `final loss ${t.finalLoss.toFixed(3)}, ${Math.round(t.tokensPerSecond)} tok/s, train ${(t.wallMs / 1000).toFixed(0)} s, eval ${(record.evalWallMs / 1000).toFixed(0)} s`;
}
