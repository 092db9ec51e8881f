/**
 * The settings of a `posenc bench squad` run; everything that changes a figure is here (and in
 * the run's config hash), the methods and seeds are not.
 */
import type { WindowPositions } from './data/features.js';
import type { SotuQaSpec } from './data/sotu-qa.js';

export interface SquadModelShape {
  modelDim: number;
  layers: number;
  heads: number;
  ffnDim: number;
}

export interface SquadConfig {
  /** `sotu` (the embedded set) or the absolute path of a SQuAD JSON training file. */
  train: string;
  /** `sotu` or the absolute path of a SQuAD JSON dev file (scored as the official script does). */
  dev: string;
  /** `bytes` or the absolute path of a tokenizer.json. */
  tokenizer: string;
  /** The embedded set's size and shape (used when train and dev are `sotu`). */
  sotu: SotuQaSpec;
  maxLength: number;
  maxQuestion: number;
  docStride: number;
  windowPositions: WindowPositions;
  steps: number;
  /** Windows per batch. */
  batch: number;
  lr: number;
  model: SquadModelShape;
  /** `''`, or a folder to start from: an HF RoFormer checkpoint or one of ours. */
  init: string;
  nBest: number;
  maxAnswerLength: number;
  /** SQuAD 2.0: predict no answer when null score − best span score exceeds this. */
  nullThreshold: number;
  /** Upper edges (characters) of the context-length buckets of the F1-by-length table. */
  lengthBuckets: number[];
}

export const WEIGHT_DECAY = 0.01;
export const CLIP_NORM = 1;
export const MIN_LR_RATIO = 0.1;
export const warmupSteps = (steps: number) => Math.max(1, Math.floor(steps / 10));

/** Huang et al. 2020 (Table 3), BERT-base fine-tuned on SQuAD 1.1, dev set, their checkpoints. */
export const SQUAD_REFERENCES = [
  { method: 'learned', what: 'BERT-base, absolute position embeddings', em: 81.22, f1: 88.52 },
  {
    method: 'relative_key_query',
    what: 'BERT-base, key-query relative (Huang et al. Method 4)',
    em: 83.68,
    f1: 90.55,
  },
] as const;
