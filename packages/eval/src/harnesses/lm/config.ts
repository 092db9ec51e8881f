/**
 * The settings of a `posenc bench lm` run. Everything that changes a figure is here and in the
 * run's config hash; the methods and seeds are not (a cell's seed is its own).
 */
export type EvalSplit = 'valid' | 'test';

/** The model every method shares; only the position method differs. */
export interface ModelShape {
  modelDim: number;
  layers: number;
  heads: number;
  ffnDim: number;
}

export interface LMConfig {
  /** Corpus spec with its path resolved: `sotu`, `wikitext:/abs/dir`, `file:/abs/file`. */
  corpus: string;
  /** `bytes` or the absolute path of a tokenizer.json. */
  tokenizer: string;
  /** Training length L (tokens per window). */
  trainLength: number;
  /** Evaluation lengths, ascending. */
  evalLengths: number[];
  steps: number;
  /** Windows per batch at the training length. */
  batch: number;
  model: ModelShape;
  /** Peak AdamW learning rate (cosine decay to 10% after a warmup of min(30, steps/10) steps). */
  lr: number;
  evalSplit: EvalSplit;
  /** Targets scored per evaluation (spread over the split), or 'all' for the whole split. */
  evalTokens: number | 'all';
  /** Sliding-window stride as a share of the evaluation length, in (0, 1]. */
  strideRatio: number;
}

export const WEIGHT_DECAY = 0.01;
export const CLIP_NORM = 1;
export const MIN_LR_RATIO = 0.1;

export function warmupSteps(steps: number): number {
  return Math.min(30, Math.floor(steps / 10));
}

export function longestEvalLength(config: Pick<LMConfig, 'evalLengths'>): number {
  return config.evalLengths[config.evalLengths.length - 1]!;
}

/** Longest length accepted: attention is O(N²) in memory. */
export const MAX_LENGTH = 16384;
