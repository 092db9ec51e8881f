/**
 * Shortformer training on core's trainer: a staged schedule of subsequence lengths (tokens per
 * batch fixed), unshuffled contiguous streams, and the cache of the previous subsequence. One
 * `train` run covers every stage, so the optimizer state (AdamW moments and step count) carries
 * over from stage to stage as in the paper (§4.2), and the learning-rate schedule runs over the
 * whole of training.
 *
 * The batches are a pure function of the step (core's `batchAt` contract). The cache is not:
 * it is the previous step's state, cleared at the start of every epoch and stage. A run resumed
 * from a checkpoint therefore starts its first step with an empty cache.
 *
 * Without a cache the paper's runs shuffle (unmodified fairseq: the staged baseline of §4, PIA
 * alone in §5.3); `shuffle` draws each batch's subsequences at random offsets instead of
 * reading the streams, from (seed, step) alone.
 */
import {
  randomWindows,
  sequencePositions,
  tf,
  tokenCrossEntropy,
  train,
  type DecoderLM,
  type StepContext,
  type TrainOptions,
  type TrainResult,
} from '@posenc/core';
import {
  streamBatch,
  streamLayout,
  type StreamBatch,
  type StreamLayout,
} from './contiguous-streams.js';
import {
  StagedSchedule,
  type ResolvedStage,
  type StagedScheduleOptions,
} from './staged-schedule.js';
import { SubsequenceCache } from './subsequence-cache.js';
import { FIRST_WINDOW_POSITION } from './window-positions.js';

export interface ShortformerTrainingOptions {
  model: DecoderLM;
  /** The training corpus as one token stream (never shuffled). */
  tokens: Int32Array;
  schedule: StagedSchedule;
  /** Micro-batches per optimizer step (each is a further subsequence of the streams). Default 1. */
  accumulationSteps?: number;
  /** Position of a window's first token; default 1 (the paper's Fig. 1c). */
  firstPosition?: number;
  /**
   * Subsequences at random offsets drawn from this seed and the step (core's `randomWindows`)
   * instead of contiguous streams; only for schedules without a cache, which needs the streams.
   */
  shuffle?: { seed: number };
  /**
   * What a step's subsequence attends to before its own tokens, when the stage has a cache:
   * - `cache` (default, the paper's): every layer's states of the previous subsequence as the
   *   previous step computed them, detached.
   * - `fresh-cache`: the same states recomputed under the current weights before the step (one
   *   more forward pass, without gradient, from the cache of the subsequence before that).
   * - `window`: no cache; the previous L′ tokens are put in front of the subsequence and the
   *   model runs over both with full gradient, the loss on the subsequence only.
   * The last two are not the paper's procedures: they measure what the cache's one-step-old,
   * detached states cost against the same context computed afresh.
   */
  context?: CacheContext;
}

export type CacheContext = 'cache' | 'fresh-cache' | 'window';
export const CACHE_CONTEXTS: readonly CacheContext[] = ['cache', 'fresh-cache', 'window'];

export interface ShortformerBatch extends StreamBatch {
  /** Index of the stage the batch belongs to. */
  stage: number;
}

/** What core's `train`/`Trainer` needs, plus the state it keeps between steps. */
export interface ShortformerTraining {
  readonly schedule: StagedSchedule;
  batchAt(step: number, micro: number): ShortformerBatch;
  /** Mean next-token loss of the batch with the cache of the previous subsequence. */
  loss(batch: ShortformerBatch, context: StepContext): tf.Scalar;
  /** The cache of the current stage (undefined before the first loss). */
  readonly cache: SubsequenceCache | undefined;
  /** Frees the cache. */
  dispose(): void;
}

/** Batches and loss for staged Shortformer training of `model` on `tokens`. */
export function shortformerTraining(options: ShortformerTrainingOptions): ShortformerTraining {
  const { model, tokens, schedule, firstPosition = FIRST_WINDOW_POSITION } = options;
  const accumulation = options.accumulationSteps ?? 1;
  if (!Number.isInteger(accumulation) || accumulation < 1)
    throw new Error(
      `shortformerTraining: accumulationSteps = ${accumulation} is not allowed; expected an integer ≥ 1`,
    );
  const { shuffle, context: contextMode = 'cache' } = options;
  const cached = schedule.stages.find((s) => s.cacheLength > 0);
  if (!CACHE_CONTEXTS.includes(contextMode))
    throw new Error(
      `shortformerTraining: context = ${JSON.stringify(contextMode)} is not allowed; expected one of ${CACHE_CONTEXTS.join(', ')}`,
    );
  if (contextMode !== 'cache' && !cached)
    throw new Error(
      `shortformerTraining: context = '${contextMode}' is not allowed without a cache; every stage has cacheLength 0`,
    );
  if (shuffle && cached)
    throw new Error(
      `shortformerTraining: shuffle is not allowed with a cache (stage ${cached.index} caches L′ = ${cached.cacheLength}); the cache must hold the previous subsequence of the same stream`,
    );
  // Validates up front that every stage has at least one full epoch of data.
  const layouts: StreamLayout[] = schedule.stages.map((stage) =>
    streamLayout(tokens.length, stage.batchSize, stage.length),
  );
  let cacheStage: ResolvedStage | undefined;
  let cache: SubsequenceCache | undefined;
  // With context 'fresh-cache' or 'window': the inputs of the previous step of this stage and
  // epoch. 'fresh-cache' recomputes their states (the cache then holds the subsequence before
  // them); 'window' puts their last L′ tokens in front of the current ones.
  let previousInputs: tf.Tensor2D | undefined;
  const forgetPrevious = () => {
    previousInputs?.dispose();
    previousInputs = undefined;
  };

  const cacheFor = (stage: ResolvedStage): SubsequenceCache => {
    if (cacheStage !== stage) {
      cache?.dispose();
      forgetPrevious();
      cache = new SubsequenceCache({ cacheLength: stage.cacheLength, firstPosition });
      cacheStage = stage;
    }
    return cache!;
  };

  return {
    schedule,
    get cache() {
      return cache;
    },
    batchAt(step, micro) {
      const { stage } = schedule.at(step);
      if (shuffle) {
        const index = step * accumulation + micro;
        const windows = randomWindows(tokens, stage.batchSize, stage.length, shuffle.seed, index);
        // Passes over the data in tokens drawn; no cache to clear at their starts.
        const epoch = Math.floor((index * schedule.tokensPerBatch) / tokens.length);
        return { ...windows, epoch, epochStart: false, stage: stage.index };
      }
      // A stage switch keeps the run's place in its pass over the data: with tokens per batch
      // fixed, batch i of any stage's layout is the same share of an epoch. fairseq's stage-2
      // run continues the epoch count of the stage-1 checkpoint, and its switches fall on epoch
      // ends, where this is the start of the data as there; a switch inside an epoch (runs
      // shorter than one epoch) goes on to the tokens not yet read instead of reading stage 1's
      // tokens again, which would give the staged rows half the distinct data of the others.
      const batch = streamBatch(tokens, layouts[stage.index]!, step * accumulation + micro);
      return { ...batch, stage: stage.index };
    },
    loss(batch, context) {
      const stageCache = cacheFor(schedule.stages[batch.stage]!);
      if (batch.epochStart) {
        stageCache.clear();
        forgetPrevious();
      }
      const { cacheLength } = stageCache;
      const keepsPrevious = contextMode !== 'cache' && cacheLength > 0;
      const loss = tf.tidy(() => {
        const call = { training: true, dropoutSeed: context.seed };
        if (keepsPrevious && contextMode === 'window') {
          // The previous tokens and the current ones in one pass, positions as the cache labels them.
          const length = batch.inputs.shape[1];
          const before = previousInputs
            ? previousInputs.slice([0, Math.max(0, previousInputs.shape[1] - cacheLength)])
            : undefined;
          const inputs = before
            ? (tf.concat([before, batch.inputs], 1) as tf.Tensor2D)
            : batch.inputs;
          const [rows, total] = inputs.shape;
          const positions = sequencePositions(rows, total, firstPosition);
          const logits = model.forward(inputs, { ...call, positions }).logits;
          const own = logits.slice([0, total - length, 0], [-1, length, -1]) as tf.Tensor3D;
          return tokenCrossEntropy(own, batch.targets);
        }
        // The refresh pass's states are detached by the cache, so no gradient reaches it.
        if (keepsPrevious && previousInputs) stageCache.forward(model, previousInputs, call);
        const logits = stageCache.forward(model, batch.inputs, {
          ...call,
          // Refreshing: keep the context's states; the next step recomputes this batch's own.
          ...(keepsPrevious && { nextStart: 0 }),
        });
        return tokenCrossEntropy(logits, batch.targets);
      });
      if (keepsPrevious) {
        forgetPrevious();
        previousInputs = tf.keep(batch.inputs.clone());
      }
      return loss;
    },
    dispose() {
      forgetPrevious();
      cache?.dispose();
      cache = undefined;
      cacheStage = undefined;
    },
  };
}

export type TrainShortformerOptions = Omit<ShortformerTrainingOptions, 'schedule'> &
  Omit<StagedScheduleOptions, 'totalSteps'> &
  Omit<TrainOptions<ShortformerBatch>, 'parameters' | 'loss' | 'batchAt'>;

export interface TrainShortformerResult extends TrainResult {
  stages: readonly ResolvedStage[];
}

/**
 * Trains `model` in place through the stages (e.g. `[{ length: 128, share: 0.5 }, { length: 512,
 * share: 0.5 }]` for Shortformer's WikiText-103 run) with the cache of L′ = L (set `defaultCache: 0`
 * for the staged baseline without PIA and cache).
 */
export async function trainShortformer(
  options: TrainShortformerOptions,
): Promise<TrainShortformerResult> {
  const { model, tokens, stages, tokensPerBatch, defaultCache, firstPosition, ...trainOptions } =
    options;
  const schedule = new StagedSchedule({
    stages,
    tokensPerBatch,
    totalSteps: options.steps,
    defaultCache,
  });
  const plan = shortformerTraining({
    model,
    tokens,
    schedule,
    firstPosition,
    accumulationSteps: options.accumulationSteps,
  });
  try {
    const result = await train({
      ...trainOptions,
      parameters: model.parameters(),
      batchAt: (step, micro) => plan.batchAt(step, micro),
      loss: (batch, context) => plan.loss(batch, context),
    });
    return { ...result, stages: schedule.stages };
  } finally {
    plan.dispose();
  }
}
