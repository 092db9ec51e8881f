/**
 * What a method row of the LM harness builds for a cell: the shared decoder with the method's
 * encodings, its training procedure (core's `train` contract) and its evaluation. The standard
 * procedure (random windows at the training length, windows at positions 0…N−1 for evaluation)
 * serves the encodings that only change attention; Shortformer and the segmented samplers bring
 * procedures of their own.
 */
import type { DecoderLM, TrainBatch } from '@posenc/core';
import type { MethodRow, SessionContext, TrainingSession } from '../../../run/harness.js';
import type { LMConfig } from '../config.js';
import type { LMData } from '../data.js';
import type { TokenArray } from '../data/token-array.js';
import type { PerplexityResult, PerplexitySpec } from '../evaluation/perplexity.js';
import type { EvalMode } from '../evaluation/windows.js';

export interface LMSession<B extends TrainBatch = TrainBatch> extends TrainingSession<B> {
  readonly model: DecoderLM;
  /**
   * Perplexity over the segments; `contexts` are the tokens just before each segment in its
   * stream, which a method with a cache sees as its cache at the segment's start (others ignore
   * them: their windows start without context).
   */
  evaluate(
    segments: readonly TokenArray[],
    spec: PerplexitySpec,
    contexts?: readonly TokenArray[],
  ): Promise<PerplexityResult>;
  /** How a mode is evaluated when it differs from plain windows (e.g. with a cache). */
  readonly evalModeNotes?: Partial<Record<EvalMode, string>>;
}

export type LMSessionContext = SessionContext<LMConfig, LMData>;
export type LMRow = MethodRow<LMConfig, LMData, LMSession>;
