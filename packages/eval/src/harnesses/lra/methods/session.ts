/**
 * One cell's model and procedure: the LRA classifier with the row's attention and encodings on its
 * dataset's plan, batches sampled as a pure function of (seed, step), and the stochastic parts —
 * SPE's noise and FAVOR+'s random features — redrawn per step as a function of the step (so a
 * resumed cell sees the same draws) and fixed to one draw for evaluation.
 */
import {
  classCrossEntropy,
  createEncoding,
  generatorFor,
  tf,
  type StepContext,
  type TrainBatch,
} from '@posenc/core';
import type { SessionContext, TrainingSession } from '../../../run/harness.js';
import type { LraConfig, LraTask } from '../config.js';
import type { LraData, LraTaskData } from '../data.js';
import { LraClassifier, type LraInputs } from '../model/lra-classifier.js';
import type { LraExample } from '../tasks/examples.js';
import type { LraMethod } from './rows.js';

export interface LraBatch extends TrainBatch, LraInputs {
  readonly labels: tf.Tensor1D;
}

export interface LraSession extends TrainingSession<LraBatch> {
  readonly task: LraTask;
  readonly data: LraTaskData;
  readonly model: LraClassifier;
  readonly batchSize: number;
  /** Tensors of a batch of examples (padded to the longest). */
  batchOf(examples: readonly LraExample[]): LraBatch;
  /** Puts the stochastic parts on draw `index` (a step, or the evaluation's fixed draw). */
  setDraw(index: number): void;
}

/** The draw evaluation uses: one fixed code, distinct from every training step's. */
export const EVALUATION_DRAW = 2 ** 30;

interface Redrawable {
  setDraw(index: number): void;
}

function isRedrawable(x: unknown): x is Redrawable {
  return typeof x === 'object' && x !== null && typeof (x as Redrawable).setDraw === 'function';
}

/** `[B, N]` ids padded with 0 to the longest row. */
function padded(rows: readonly Int32Array[]): tf.Tensor2D {
  const n = Math.max(1, ...rows.map((r) => r.length));
  const out = new Int32Array(rows.length * n);
  rows.forEach((r, i) => out.set(r, i * n));
  return tf.tensor2d(out, [rows.length, n], 'int32');
}

export function lraSession(
  context: SessionContext<LraConfig, LraData>,
  task: LraTask,
  method: LraMethod,
): LraSession {
  const { config, seed } = context;
  const data = context.data[task];
  if (!data)
    throw new Error(`LRA: the data of ${task} was not loaded (tasks: ${config.tasks.join(', ')})`);
  const plan = config.plans[task];
  const encodings = method.encodings(plan).map((c) => createEncoding(c));
  const model = new LraClassifier(
    {
      vocabSize: data.vocabSize,
      classes: data.classes,
      maxLength: data.maxLength,
      modelDim: plan.modelDim,
      heads: plan.heads,
      layers: plan.layers,
      ffnDim: plan.ffnDim,
      mlpDim: plan.mlpDim,
      pooling: plan.pooling,
      dual: data.dual,
      attention: method.attention,
      featureMap: method.featureMap,
      randomFeatures: plan.randomFeatures,
      dropout: plan.dropout,
      seed,
    },
    encodings,
  );
  const redrawables = ([...encodings, model.body.featureMap] as unknown[]).filter(isRedrawable);
  const batchOf = (examples: readonly LraExample[]): LraBatch => {
    const ids = padded(examples.map((e) => e.tokens));
    const second = data.dual ? padded(examples.map((e) => e.second!)) : undefined;
    return {
      ids,
      ...(second && { second }),
      labels: tf.tensor1d(
        examples.map((e) => e.label),
        'int32',
      ),
      // Real tokens (padding excluded), for the trainer's tokens/s.
      tokens: examples.reduce((n, e) => n + e.tokens.length + (e.second?.length ?? 0), 0),
    };
  };
  return {
    task,
    data,
    model,
    batchSize: plan.batch,
    notes:
      method.featureMap === 'favor+' || encodings.some(isRedrawable)
        ? ['random features / SPE noise redrawn every step; one fixed draw for evaluation']
        : [],
    parameters: () => model.parameters(),
    batchAt: (step, micro) => {
      const random = generatorFor(seed, step, micro);
      const picked = Array.from(
        { length: plan.batch },
        () => data.train[Math.floor(random() * data.train.length)]!,
      );
      return batchOf(picked);
    },
    batchOf,
    setDraw: (index) => redrawables.forEach((r) => r.setDraw(index)),
    loss(batch: LraBatch, ctx: StepContext) {
      redrawables.forEach((r) => r.setDraw(ctx.step));
      return tf.tidy(() => classCrossEntropy(model.logits(batch, true, ctx.seed), batch.labels));
    },
    dispose: () => model.dispose(),
  };
}
