/**
 * Staged training (Press, Smith & Lewis 2021, §4): train on short subsequences first, then on
 * the full length. Tokens per batch stay fixed, so the batch grows as the length shrinks
 * (§3.1: "batch size × L = 9,216" tokens per GPU); the data order and the optimizer state carry
 * over from stage to stage (§4.2; the README restores stage 1's checkpoint for stage 2).
 *
 * The paper measures stages in epochs. With tokens per batch fixed, an epoch is a fixed number
 * of steps, so a share of the epochs is the same share of the steps.
 */

export interface Stage {
  /** Subsequence length L of this stage. */
  length: number;
  /** Share of the training steps, in (0, 1]; the shares sum to 1. */
  share: number;
  /** L′: tokens cached from the previous subsequence; defaults to the schedule's choice (L′ = L for Shortformer). */
  cacheLength?: number;
}

export interface ResolvedStage {
  readonly index: number;
  readonly length: number;
  /** tokensPerBatch / length. */
  readonly batchSize: number;
  readonly cacheLength: number;
  /** First global step of the stage. */
  readonly firstStep: number;
  /** Steps the stage runs. */
  readonly steps: number;
}

export interface StagedScheduleOptions {
  stages: readonly Stage[];
  /** Tokens in every batch, in every stage; each stage's length must divide it. */
  tokensPerBatch: number;
  /** Total optimizer steps. */
  totalSteps: number;
  /** L′ for stages that do not set `cacheLength`: `'length'` caches L′ = L (Shortformer), 0 disables the cache (staged baseline). */
  defaultCache?: 'length' | 0;
}

export interface StageStep {
  readonly stage: ResolvedStage;
  /** Step within the stage (0-based). */
  readonly stepInStage: number;
}

/** A validated stage schedule; every query is a pure function of the global step. */
export class StagedSchedule {
  readonly stages: readonly ResolvedStage[];
  readonly tokensPerBatch: number;
  readonly totalSteps: number;

  constructor(options: StagedScheduleOptions) {
    const { stages, tokensPerBatch, totalSteps, defaultCache = 'length' } = options;
    const owner = 'StagedSchedule';
    if (!Number.isInteger(tokensPerBatch) || tokensPerBatch < 1)
      throw new Error(
        `${owner}: tokensPerBatch = ${tokensPerBatch} is not allowed; expected an integer ≥ 1`,
      );
    if (!Number.isInteger(totalSteps) || totalSteps < 1)
      throw new Error(
        `${owner}: totalSteps = ${totalSteps} is not allowed; expected an integer ≥ 1`,
      );
    if (!Array.isArray(stages) || stages.length === 0)
      throw new Error(
        `${owner}: stages = ${JSON.stringify(stages)} is not allowed; expected at least one stage`,
      );
    let shareSum = 0;
    stages.forEach((stage, i) => {
      const { length, share, cacheLength } = stage;
      if (!Number.isInteger(length) || length < 1 || tokensPerBatch % length !== 0)
        throw new Error(
          `${owner}: stages[${i}].length = ${length} is not allowed; expected an integer ≥ 1 dividing tokensPerBatch = ${tokensPerBatch} (tokens per batch stay fixed across stages)`,
        );
      if (!Number.isFinite(share) || share <= 0 || share > 1)
        throw new Error(
          `${owner}: stages[${i}].share = ${share} is not allowed; expected a number in (0, 1]`,
        );
      if (cacheLength !== undefined && (!Number.isInteger(cacheLength) || cacheLength < 0))
        throw new Error(
          `${owner}: stages[${i}].cacheLength = ${cacheLength} is not allowed; expected an integer ≥ 0`,
        );
      shareSum += share;
    });
    if (Math.abs(shareSum - 1) > 1e-9)
      throw new Error(
        `${owner}: stages' shares sum to ${shareSum}; expected 1 (e.g. [{ length: 128, share: 0.25 }, { length: 512, share: 0.75 }])`,
      );
    // Stage boundaries round the cumulative share, so the steps always add up to totalSteps.
    let cumulative = 0;
    let firstStep = 0;
    this.stages = stages.map((stage, index) => {
      cumulative += stage.share;
      const end = index === stages.length - 1 ? totalSteps : Math.round(cumulative * totalSteps);
      const steps = end - firstStep;
      if (steps < 1)
        throw new Error(
          `${owner}: stages[${index}] (share ${stage.share}) gets no step of ${totalSteps}; raise totalSteps or its share`,
        );
      const resolved: ResolvedStage = {
        index,
        length: stage.length,
        batchSize: tokensPerBatch / stage.length,
        cacheLength: stage.cacheLength ?? (defaultCache === 'length' ? stage.length : 0),
        firstStep,
        steps,
      };
      firstStep = end;
      return resolved;
    });
    this.tokensPerBatch = tokensPerBatch;
    this.totalSteps = totalSteps;
  }

  /** The stage that global `step` belongs to, and the step's index within it. */
  at(step: number): StageStep {
    if (!Number.isInteger(step) || step < 0 || step >= this.totalSteps)
      throw new Error(
        `StagedSchedule: step = ${step} is not allowed; expected an integer in [0, ${this.totalSteps - 1}]`,
      );
    let stage = this.stages[0]!;
    for (const s of this.stages) if (s.firstStep <= step) stage = s;
    return { stage, stepInStage: step - stage.firstStep };
  }
}
