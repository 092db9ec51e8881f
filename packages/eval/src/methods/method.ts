/**
 * A row of the benchmark: a position method with its own training and evaluation procedure. The
 * standard procedure (random windows at the training length, windows at positions 0…N−1 for
 * evaluation) serves the encodings that only change attention; Shortformer and the segmented
 * samplers bring procedures of their own.
 */
import type { DecoderLM, StepContext, TrainBatch, tf } from '@posenc/core';
import type { TokenArray } from '../data/token-array.js';
import type { PerplexityResult, PerplexitySpec } from '../lm/perplexity.js';
import type { EvalMode } from '../lm/windows.js';

/** The model every method shares; only the position method differs. */
export interface ModelShape {
  modelDim: number;
  layers: number;
  heads: number;
  ffnDim: number;
}

export interface MethodContext {
  /** Training split as one token stream. */
  trainTokens: TokenArray;
  vocabSize: number;
  /** Training length L: tokens per window. */
  trainLength: number;
  /** Longest evaluation length (tables that must cover it). */
  longestEvalLength: number;
  /** Windows per batch at the training length; tokens per batch = batch × trainLength. */
  batch: number;
  steps: number;
  seed: number;
  model: ModelShape;
}

/** One method's model and procedures, for one run. */
export interface MethodSession<B extends TrainBatch = TrainBatch> {
  readonly model: DecoderLM;
  /** Core's `train` contract: a pure function of (step, micro). */
  batchAt(step: number, micro: number): B;
  loss(batch: B, context: StepContext): tf.Scalar;
  evaluate(segments: readonly TokenArray[], spec: PerplexitySpec): Promise<PerplexityResult>;
  /** What the method's procedure does differently, for the report. */
  readonly notes: readonly string[];
  /** How a mode is evaluated when it differs from plain windows (e.g. with a cache). */
  readonly evalModeNotes?: Partial<Record<EvalMode, string>>;
  dispose(): void;
}

export type MethodFactory = (context: MethodContext) => MethodSession;

export interface LMMethod {
  /** Row name: `alibi`, `rope+chunk0.25`, `shortformer`. */
  readonly name: string;
  readonly description: string;
  /** Citation of the paper. */
  readonly paper: string;
  /** npm package that implements it. */
  readonly package: string;
  /**
   * Imports what the method needs and checks it is there; throws `MethodUnavailableError` with
   * the reason when its package or an export is missing.
   */
  prepare(): Promise<MethodFactory>;
  /** A reason the run's settings do not suit the method (checked before anything is written). */
  checkConfig?(config: { trainLength: number; batch: number; steps: number }): string | undefined;
}

/** A method whose package (or a part of it) is not installed: listed, never faked. */
export class MethodUnavailableError extends Error {
  constructor(
    readonly method: string,
    readonly reason: string,
  ) {
    super(`method '${method}' is unavailable: ${reason}`);
    this.name = 'MethodUnavailableError';
  }
}
