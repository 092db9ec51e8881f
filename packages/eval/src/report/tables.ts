/**
 * The extrapolation table both reports show: rows are methods, columns evaluation lengths, cells
 * perplexity per token in one evaluation mode; the best cell of each column is marked.
 */
import type { BenchResults, MethodRecord } from '../bench/results.js';
import type { EvalMode } from '../lm/windows.js';

export interface ExtrapolationTable {
  mode: EvalMode;
  lengths: number[];
  rows: { method: string; cells: (number | undefined)[] }[];
  /** Per column, the lowest perplexity. */
  best: (number | undefined)[];
}

export function perplexityAt(
  record: MethodRecord,
  mode: EvalMode,
  length: number,
): number | undefined {
  return record.evaluations.find((e) => e.mode === mode && e.length === length)?.perplexity;
}

export function extrapolationTable(results: BenchResults, mode: EvalMode): ExtrapolationTable {
  const lengths = results.config.evalLengths;
  const rows = results.methods.map((m) => ({
    method: m.method,
    cells: lengths.map((l) => perplexityAt(m, mode, l)),
  }));
  const best = lengths.map((_, i) => {
    const values = rows
      .map((r) => r.cells[i])
      .filter((v): v is number => v !== undefined && Number.isFinite(v));
    return values.length ? Math.min(...values) : undefined;
  });
  return { mode, lengths, rows, best };
}

/** Perplexities with 3 significant digits at least 2 decimals: 4.87, 12.31, 1534. */
export function formatPerplexity(value: number | undefined): string {
  if (value === undefined) return '—';
  if (!Number.isFinite(value)) return String(value);
  if (value >= 1000) return value.toExponential(2);
  return value.toFixed(value >= 100 ? 1 : 2);
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export const MODE_TITLES: Record<EvalMode, string> = {
  nonoverlapping: 'nonoverlapping windows',
  sliding: 'sliding window',
};

/** One line per fact of the run, shared by both reports. */
export function runFacts(results: BenchResults): string[] {
  const c = results.config;
  const m = c.model;
  const e = results.evaluation;
  const stride = `stride ${c.strideRatio === 0.5 ? 'L/2' : `${c.strideRatio}·L`}`;
  return [
    `Corpus: ${results.corpus.description}.`,
    `Tokenizer: ${results.tokenizer.description}.`,
    `Model: decoder-only, ${m.layers} layers, d = ${m.modelDim}, ${m.heads} heads, FFN ${m.ffnDim}, pre-LN, tied embeddings; the same initialisation (seed ${c.seed}) for every method.`,
    `Training: ${c.steps} steps of ${c.batch} × ${c.trainLength} tokens (L = ${c.trainLength}), AdamW lr ${c.lr} with cosine decay, the same windows in the same order for every method on the standard procedure.`,
    `Evaluation: ${e.targets} target tokens of the ${e.split} split${e.wholeSplit ? ' (all of it)' : ` in ${e.segments} segments of ${e.segmentTargets} spread over it`}, the same tokens at every length; perplexity per token = exp(mean NLL); sliding window with ${stride}.`,
    `Reference: a model without context reaches the unigram perplexity exp(H) = ${formatPerplexity(Math.exp(results.corpus.trainUnigramEntropy))} on the training split.`,
    `Engine: ${results.engine.engine} (TF.js backend ${results.engine.backend}), ${results.machine.cpus} × ${results.machine.cpuModel}, Node ${results.machine.node}.`,
    `Time over all methods: training ${formatSeconds(results.methods.reduce((t, m) => t + m.training.wallMs, 0))}, evaluation ${formatSeconds(results.methods.reduce((t, m) => t + m.evalWallMs, 0))}.`,
  ];
}
