/** The shape of `results.json` and of each method's record in the run folder. */
import type { PerplexityResult } from '../lm/perplexity.js';
import type { EvalMode } from '../lm/windows.js';
import type { BenchConfig } from './config.js';

export const RESULTS_FORMAT = 'posenc-bench-lm-results/1';

export interface EvaluationFigure extends PerplexityResult {
  /** WikiText `.tokens` evaluated whole: exp(total NLL / (words + one end of line per line)). */
  wordPerplexity?: number;
}

export interface TrainingRecord {
  steps: number;
  tokens: number;
  /** Mean loss of every step, nats per token. */
  lossHistory: number[];
  /** Mean loss of the last 10% of the steps. */
  finalLoss: number;
  /** Wall time of training summed over the processes that ran it. */
  wallMs: number;
  tokensPerSecond: number;
  /** Steps a resumed process continued from (empty when it ran in one go). */
  resumedFrom: number[];
  parameters: number;
}

export interface MethodRecord {
  method: string;
  description: string;
  paper: string;
  package: string;
  notes: string[];
  evalModeNotes?: Partial<Record<EvalMode, string>>;
  training: TrainingRecord;
  evaluations: EvaluationFigure[];
  evalWallMs: number;
  finishedAt: string;
}

export interface FailedMethod {
  method: string;
  error: string;
}

export interface UnavailableMethod {
  method: string;
  package: string;
  reason: string;
}

export interface EvaluationInfo {
  split: string;
  /** Target tokens scored at every length and mode. */
  targets: number;
  segments: number;
  segmentTargets: number;
  wholeSplit: boolean;
  /** Words + end-of-line tokens of the split (WikiText `.tokens`). */
  words?: number;
}

export interface BenchResults {
  format: typeof RESULTS_FORMAT;
  run: string;
  command: string;
  config: BenchConfig;
  configHash: string;
  methods: MethodRecord[];
  failed: FailedMethod[];
  unavailable: UnavailableMethod[];
  corpus: {
    spec: string;
    description: string;
    splits: Record<string, { description: string; tokens: number }>;
    /** Unigram entropy of the training split, nats per token: the loss of a model without context. */
    trainUnigramEntropy: number;
  };
  tokenizer: { spec: string; description: string; vocabSize: number };
  evaluation: EvaluationInfo;
  engine: { engine: string; backend: string };
  versions: Record<string, string>;
  machine: { platform: string; arch: string; cpus: number; cpuModel: string; node: string };
  /** This process: wall time and peak resident memory. */
  process: { wallMs: number; peakRssMB: number };
  writtenAt: string;
}
