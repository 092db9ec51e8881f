/**
 * The training loop: gradient accumulation, clipping, AdamW with a schedule, NaN/Inf guard,
 * checkpoints and exact resume.
 *
 * Exact resume rests on everything being a pure function of the step: the data
 * (`batchAt(step, micro)`), the learning rate (the schedule), and the randomness in the loss
 * (`context.seed`, derived from the run's seed, the step and the micro-batch). A checkpoint holds
 * the rest of the state (parameters, moments, step), so a resumed run repeats the uninterrupted
 * one bit for bit on the same engine.
 *
 * Steps are 0-based everywhere: step `s` is the update made after `s` earlier ones; `batchAt`,
 * the loss context, progress events, errors and `lossHistory` all use that index, while a
 * checkpoint's `step` counts completed updates (the next step to run).
 */
import { ConfigError, parseConfig, type ConfigOf, type Schema } from '../config/schema.js';
import { tf } from '../engine/tf.js';
import { AdamW, parseAdamWConfig, type AdamWConfig, type AdamWOptions } from './adamw.js';
import { checkpointStorage, TRAINER_FORMAT, type TrainerRecord } from './checkpoint-record.js';
import { clipByGlobalNorm, globalNorm, type Gradients } from './clip.js';
import {
  learningRateAt,
  parseSchedule,
  type ScheduleConfig,
  type ScheduleOptions,
} from './schedule.js';

/** A batch is whatever the loss takes; reporting its token count enables tokens/s. */
export interface TrainBatch {
  readonly tokens?: number;
}

export interface StepContext {
  /** Index of the optimizer step being computed. */
  readonly step: number;
  /** Index of the micro-batch within the step, `0 ≤ micro < accumulationSteps`. */
  readonly micro: number;
  /** Seed for randomness inside the loss (dropout): a function of (seed, step, micro) only. */
  readonly seed: number;
}

export interface TrainOptions<B extends TrainBatch = TrainBatch> {
  /** The tensors to train, by stable name; the names are the checkpoint keys. Frozen (non-trainable) ones are saved but not updated. */
  parameters: Readonly<Record<string, tf.Variable>>;
  /** Mean loss over the batch. Micro-batches of a step should have equal sizes so that averaging their losses equals one big batch. */
  loss: (batch: B, context: StepContext) => tf.Scalar;
  /** Must depend only on its arguments so that a resumed run sees the same data. Tensors it creates are disposed after the step. */
  batchAt: (step: number, micro: number) => B | Promise<B>;
  /** Total optimizer steps of the run (a resumed run continues up to this). */
  steps: number;
  optimizer?: AdamWOptions;
  /** Defaults to a constant rate; `totalSteps` defaults to `steps`. */
  schedule?: ScheduleOptions;
  /** Clip gradients to this global norm (after averaging over micro-batches). */
  clipNorm?: number;
  /** Micro-batches per optimizer step; their gradients are summed and averaged. Default 1. */
  accumulationSteps?: number;
  /** Default 0. */
  seed?: number;
  checkpointDir?: string;
  /** Checkpoint after every this many steps; with a `checkpointDir` the last step is always saved. */
  checkpointEvery?: number;
  /** Step folders kept in `checkpointDir`, the newest included. Default 2. */
  keepCheckpoints?: number;
  /** Continue from the latest checkpoint in `checkpointDir` (start fresh if there is none). */
  resume?: boolean;
  onProgress?: (event: ProgressEvent) => void;
  /**
   * With `resume`: told about each corrupt checkpoint (a damaged `latest.json`, `trainer.json` or
   * safetensors file) passed over on the way to the newest intact one, which the run then
   * continues from. Without it, a corrupt checkpoint stops the run with an error naming the file.
   */
  onCheckpointProblem?: (line: string) => void;
  /** Stops before the next step; the state reached is checkpointed when there is a `checkpointDir`. */
  signal?: AbortSignal;
}

export interface ProgressEvent {
  /** Index of the step just completed; a bar shows `step + 1` of `totalSteps`. */
  step: number;
  totalSteps: number;
  /** Mean loss of the step (averaged over micro-batches). */
  loss: number;
  /** Learning rate the step used. */
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Tokens in the step, when the batches report them. */
  tokens?: number;
  /** Tokens per second over this process's part of the run. */
  tokensPerSecond?: number;
  /** Wall time since training started in this process. */
  elapsedMs: number;
  /** Estimated time to `totalSteps` at this process's average step time. */
  etaMs: number;
  /** Folder of the checkpoint written after this step. */
  checkpoint?: string;
}

export interface TrainResult {
  /** Optimizer updates completed (equals `steps` unless aborted). */
  completedSteps: number;
  /** Mean loss of every step from 0, including those before a resume. */
  lossHistory: number[];
  /** The checkpoint step this run continued from. */
  resumedFrom?: number;
  aborted: boolean;
  /** Folder of the newest checkpoint written or loaded. */
  checkpoint?: string;
}

const TRAINER_SCHEMA = {
  steps: { type: 'number', integer: true, min: 1 },
  accumulationSteps: { type: 'number', integer: true, min: 1, default: 1 },
  clipNorm: { type: 'number', greaterThan: 0, optional: true },
  seed: { type: 'number', integer: true, min: 0, max: 0xffffffff, default: 0 },
  checkpointDir: { type: 'string', optional: true },
  checkpointEvery: { type: 'number', integer: true, min: 1, optional: true },
  keepCheckpoints: { type: 'number', integer: true, min: 1, default: 2 },
  resume: { type: 'boolean', default: false },
} as const satisfies Schema;

const NON_CONFIG_FIELDS = [
  'parameters',
  'loss',
  'batchAt',
  'optimizer',
  'schedule',
  'onProgress',
  'onCheckpointProblem',
  'signal',
] as const;

export type TrainerConfig = ConfigOf<typeof TRAINER_SCHEMA> & {
  optimizer: AdamWConfig;
  schedule: ScheduleConfig;
};

/** The loss or gradient norm of a step was NaN or ±Inf; the step was not applied. */
export class NonFiniteError extends Error {
  constructor(
    readonly step: number,
    readonly quantity: 'loss' | 'gradient norm',
    readonly value: number,
    lastCheckpoint: string | undefined,
  ) {
    super(
      `training stopped at step ${step}: the ${quantity} is ${value}. The step was not applied; ` +
        (lastCheckpoint
          ? `the last good checkpoint is ${lastCheckpoint}.`
          : 'no checkpoint was written.'),
    );
    this.name = 'NonFiniteError';
  }
}

/** A 31-bit seed for TF.js random ops: a well-mixed hash of (seed, step, micro). */
export function stepSeed(seed: number, step: number, micro: number): number {
  const h = mix32(mix32(mix32(seed ^ 0x9e3779b9) + step) ^ Math.imul(micro + 1, 0x85ebca6b));
  return h >>> 1;
}

/** A bijective 32-bit mixer (the "lowbias32" finalizer). */
function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * A training run step by step, for callers that drive the loop themselves; `train` is the
 * usual entry point. The trainer owns the optimizer state (freed by `dispose`), not the parameters.
 */
export class Trainer<B extends TrainBatch = TrainBatch> {
  readonly config: TrainerConfig;
  readonly optimizer: AdamW;
  private readonly trainable: tf.Variable[] = [];
  /** TF.js variable name → parameter name, to key the gradients by parameter name. */
  private readonly parameterNameOf = new Map<string, string>();
  private completed = 0;
  private readonly losses: number[] = [];
  private resumedFromStep: number | undefined;
  private lastCheckpoint: { step: number; path: string } | undefined;
  private sessionStart = 0;
  private sessionSteps = 0;
  private sessionTokens: number | undefined;

  private constructor(private readonly options: TrainOptions<B>) {
    this.config = parseTrainerConfig(options);
    this.optimizer = new AdamW(this.config.optimizer, 'train.optimizer');
    for (const [name, variable] of Object.entries(options.parameters)) {
      const other = this.parameterNameOf.get(variable.name);
      if (other !== undefined)
        throw new ConfigError(
          'train',
          'parameters',
          name,
          `the same variable is also listed as '${other}'; list it once`,
        );
      this.parameterNameOf.set(variable.name, name);
      if (variable.trainable) this.trainable.push(variable);
    }
    if (this.trainable.length === 0)
      throw new ConfigError(
        'train',
        'parameters',
        Object.keys(options.parameters),
        'expected at least one trainable tf.Variable',
      );
  }

  /** Validates the options and, with `resume`, loads the latest checkpoint in place. */
  static async create<B extends TrainBatch>(options: TrainOptions<B>): Promise<Trainer<B>> {
    const trainer = new Trainer(options);
    try {
      await trainer.restore();
    } catch (e) {
      trainer.dispose();
      throw e;
    }
    trainer.sessionStart = performance.now();
    return trainer;
  }

  get completedSteps(): number {
    return this.completed;
  }

  get lossHistory(): readonly number[] {
    return this.losses;
  }

  /**
   * Computes, checks and applies step `completedSteps`, then checkpoints if one is due. Every
   * tensor created during the step (batches included) is disposed before it returns.
   */
  async runStep(): Promise<ProgressEvent> {
    const { steps, clipNorm, schedule } = this.config;
    const step = this.completed;
    if (step >= steps) throw new Error(`all ${steps} steps are done`);
    const lr = learningRateAt(step, this.optimizer.config.lr, schedule);
    let loss: number;
    let gradNorm: number;
    let tokens: number | undefined;
    // A scope rather than tidy because loading a batch may await.
    tf.engine().startScope();
    try {
      const accumulated = await this.accumulateGradients(step);
      tokens = accumulated.tokens;
      loss = (await accumulated.loss.data())[0]!;
      if (!Number.isFinite(loss)) throw this.nonFinite(step, 'loss', loss);
      let gradients = accumulated.gradients;
      if (clipNorm === undefined) gradNorm = (await globalNorm(gradients).data())[0]!;
      else ({ gradients, norm: gradNorm } = clipByGlobalNorm(gradients, clipNorm));
      if (!Number.isFinite(gradNorm)) throw this.nonFinite(step, 'gradient norm', gradNorm);
      this.optimizer.applyGradients(this.options.parameters, gradients, lr);
    } finally {
      tf.engine().endScope();
    }
    this.completed++;
    this.losses.push(loss);
    this.sessionSteps++;
    if (tokens !== undefined) this.sessionTokens = (this.sessionTokens ?? 0) + tokens;

    const checkpoint = this.checkpointDue() ? await this.saveCheckpoint() : undefined;
    const elapsedMs = performance.now() - this.sessionStart;
    return {
      step,
      totalSteps: steps,
      loss,
      lr,
      gradNorm,
      ...(tokens !== undefined && { tokens }),
      ...(this.sessionTokens !== undefined && {
        tokensPerSecond: this.sessionTokens / (elapsedMs / 1000),
      }),
      elapsedMs,
      etaMs: (elapsedMs / this.sessionSteps) * (steps - this.completed),
      ...(checkpoint !== undefined && { checkpoint }),
    };
  }

  /** Writes a checkpoint of the current state to `checkpointDir` and returns its folder. */
  async saveCheckpoint(): Promise<string> {
    const dir = this.config.checkpointDir;
    if (dir === undefined) throw new Error('saveCheckpoint needs the checkpointDir option');
    const { checkpointDir: _dir, resume: _resume, seed, ...config } = this.config;
    const record: TrainerRecord = {
      format: TRAINER_FORMAT,
      step: this.completed,
      seed,
      config,
      lossHistory: [...this.losses],
    };
    const path = await checkpointStorage().save(dir, {
      parameters: this.options.parameters,
      optimizer: this.optimizer,
      record,
      keep: this.config.keepCheckpoints,
    });
    this.lastCheckpoint = { step: this.completed, path };
    return path;
  }

  result(aborted: boolean): TrainResult {
    return {
      completedSteps: this.completed,
      lossHistory: [...this.losses],
      ...(this.resumedFromStep !== undefined && { resumedFrom: this.resumedFromStep }),
      aborted,
      ...(this.lastCheckpoint && { checkpoint: this.lastCheckpoint.path }),
    };
  }

  /** Frees the optimizer state. */
  dispose(): void {
    this.optimizer.dispose();
  }

  /** Whether the current state still has to be written (it is not the last checkpoint already). */
  hasUnsavedState(): boolean {
    return this.config.checkpointDir !== undefined && this.lastCheckpoint?.step !== this.completed;
  }

  private async restore(): Promise<void> {
    const { checkpointDir: dir, resume, seed } = this.config;
    if (dir === undefined) return;
    if (!resume) {
      const existing = await checkpointStorage().readPointer(dir);
      if (existing)
        throw new Error(
          `checkpointDir ${dir} already holds a checkpoint at step ${existing.step}; pass resume: true to continue it or use another directory`,
        );
      return;
    }
    const loaded = await checkpointStorage().load(dir, this.options.parameters, this.optimizer, {
      ...(this.options.onCheckpointProblem && { onCorrupt: this.options.onCheckpointProblem }),
      checkRecord: (found, path) => {
        if (found.seed !== seed)
          throw new Error(
            `checkpoint ${path} was trained with seed ${found.seed}, this run has seed ${seed}; an exact resume needs the same seed`,
          );
      },
    });
    if (!loaded) return;
    const { record, path } = loaded;
    this.completed = record.step;
    this.losses.push(...record.lossHistory.slice(0, record.step));
    this.resumedFromStep = record.step;
    this.lastCheckpoint = { step: record.step, path };
  }

  private checkpointDue(): boolean {
    const { checkpointEvery, steps } = this.config;
    const onSchedule =
      this.completed === steps ||
      (checkpointEvery !== undefined && this.completed % checkpointEvery === 0);
    return onSchedule && this.hasUnsavedState();
  }

  /** Sum of the micro-batch gradients and losses, divided by their count. */
  private async accumulateGradients(
    step: number,
  ): Promise<{ loss: tf.Scalar; gradients: Gradients; tokens?: number }> {
    const { accumulationSteps, seed } = this.config;
    let lossSum: tf.Scalar | undefined;
    let gradientSum: Gradients = {};
    let tokens: number | undefined;
    for (let micro = 0; micro < accumulationSteps; micro++) {
      const batch = await this.options.batchAt(step, micro);
      if (batch.tokens !== undefined) tokens = (tokens ?? 0) + batch.tokens;
      const context: StepContext = { step, micro, seed: stepSeed(seed, step, micro) };
      const { value, grads } = tf.variableGrads(
        () => this.options.loss(batch, context),
        this.trainable,
      );
      gradientSum = addGradients(gradientSum, this.byParameterName(grads));
      lossSum = lossSum ? addAndDispose(lossSum, value) : value;
    }
    if (accumulationSteps === 1)
      return { loss: lossSum!, gradients: gradientSum, ...(tokens !== undefined && { tokens }) };
    const gradients: Gradients = {};
    for (const [name, sum] of Object.entries(gradientSum)) {
      gradients[name] = tf.div(sum, accumulationSteps);
      sum.dispose();
    }
    const loss = tf.div<tf.Scalar>(lossSum!, accumulationSteps);
    lossSum!.dispose();
    return { loss, gradients, ...(tokens !== undefined && { tokens }) };
  }

  private byParameterName(grads: tf.NamedTensorMap): Gradients {
    const out: Gradients = {};
    for (const [variableName, grad] of Object.entries(grads))
      out[this.parameterNameOf.get(variableName)!] = grad;
    return out;
  }

  private nonFinite(
    step: number,
    quantity: 'loss' | 'gradient norm',
    value: number,
  ): NonFiniteError {
    return new NonFiniteError(step, quantity, value, this.lastCheckpoint?.path);
  }
}

/**
 * Trains `options.parameters` in place for `options.steps` steps (from the latest checkpoint with
 * `resume`) and frees the optimizer state at the end. Throws `NonFiniteError` on a NaN/Inf loss
 * or gradient norm, without applying that step.
 *
 * Run one loop per process at a time: each step is a TF.js engine scope, and scopes of two
 * interleaved async loops would dispose each other's tensors.
 */
export async function train<B extends TrainBatch>(options: TrainOptions<B>): Promise<TrainResult> {
  const trainer = await Trainer.create(options);
  try {
    let aborted = false;
    while (trainer.completedSteps < trainer.config.steps) {
      // On synchronous engines every await in a step resolves as a microtask; yielding a
      // macrotask lets signal handlers and timers (an abort, a progress redraw) run.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (options.signal?.aborted) {
        aborted = true;
        break;
      }
      const event = await trainer.runStep();
      options.onProgress?.(event);
    }
    if (aborted && trainer.hasUnsavedState()) await trainer.saveCheckpoint();
    return trainer.result(aborted);
  } finally {
    trainer.dispose();
  }
}

function parseTrainerConfig<B extends TrainBatch>(options: TrainOptions<B>): TrainerConfig {
  const owner = 'train';
  const config = parseConfig(
    owner,
    TRAINER_SCHEMA,
    options as unknown as Record<string, unknown>,
    NON_CONFIG_FIELDS,
  );
  for (const field of ['loss', 'batchAt'] as const)
    if (typeof options[field] !== 'function')
      throw new ConfigError(owner, field, options[field], 'expected a function');
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function')
    throw new ConfigError(owner, 'onProgress', options.onProgress, 'expected a function');
  if (typeof options.parameters !== 'object' || options.parameters === null)
    throw new ConfigError(
      owner,
      'parameters',
      options.parameters,
      'expected a record of tf.Variable by name',
    );
  if (config.checkpointDir === undefined)
    for (const field of ['checkpointEvery', 'resume'] as const)
      if (options[field])
        throw new ConfigError(owner, field, options[field], 'needs checkpointDir to be set');
  const optimizer = parseAdamWConfig(options.optimizer ?? {}, `${owner}.optimizer`);
  const schedule = parseSchedule(
    { totalSteps: config.steps, ...options.schedule },
    `${owner}.schedule`,
  );
  return { ...config, optimizer, schedule };
}

/** `sum + addend` per name, disposing the tensors that were added together. */
function addGradients(sum: Gradients, addend: Gradients): Gradients {
  const out: Gradients = { ...sum };
  for (const [name, grad] of Object.entries(addend)) {
    const previous = sum[name];
    out[name] = previous ? addAndDispose(previous, grad) : grad;
  }
  return out;
}

function addAndDispose<T extends tf.Tensor>(a: T, b: T): T {
  const sum = tf.add(a, b) as T;
  a.dispose();
  b.dispose();
  return sum;
}
