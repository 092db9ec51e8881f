/**
 * @posenc/shortformer — Shortformer (Press, Smith & Lewis 2021, arXiv 2012.15832): position-infused
 * attention, the cache of the previous subsequence, staged training from short to long inputs,
 * and the paper's evaluation modes. Importing it registers the `pia` encoding.
 */
import { registerEncoding } from '@posenc/core';
import { piaDefinition } from './pia.js';

export {
  piaDefinition,
  piaSchema,
  piaTable,
  PositionInfusedAttention,
  type PiaConfig,
} from './pia.js';
export {
  FIRST_WINDOW_POSITION,
  windowPositions,
  type WindowPositions,
} from './window-positions.js';
export {
  SubsequenceCache,
  type CachedForwardCall,
  type SubsequenceCacheOptions,
} from './subsequence-cache.js';
export {
  streamBatch,
  streamLayout,
  type StreamBatch,
  type StreamLayout,
} from './contiguous-streams.js';
export {
  StagedSchedule,
  type ResolvedStage,
  type Stage,
  type StagedScheduleOptions,
  type StageStep,
} from './staged-schedule.js';
export {
  CACHE_CONTEXTS,
  shortformerTraining,
  trainShortformer,
  type CacheContext,
  type ShortformerBatch,
  type ShortformerTraining,
  type ShortformerTrainingOptions,
  type TrainShortformerOptions,
  type TrainShortformerResult,
} from './staged-training.js';
export { SHORTFORMER_PROCEDURES, type ShortformerProcedure } from './procedures.js';
export { perplexityOf, type PerplexityResult } from './evaluation/perplexity.js';
export { evaluateNonOverlapping, type NonOverlappingOptions } from './evaluation/nonoverlapping.js';
export {
  evaluateSlidingWindow,
  slidingWindows,
  type ScoredWindow,
  type SlidingWindowOptions,
} from './evaluation/sliding-window.js';
export { evaluateTokenByToken, type TokenByTokenOptions } from './evaluation/token-by-token.js';

registerEncoding(piaDefinition);
