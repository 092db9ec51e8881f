/**
 * A trained cell's evaluation: perplexity per token at every evaluation length in both modes, on
 * the same target tokens at every length, with explicit positions 0…N−1 in every window (or the
 * method's own procedure, e.g. with a cache). Each (mode, length) is kept as soon as it is
 * computed, so a cell killed during evaluation redoes only the one it was in.
 */
import type { EvaluateContext, Evaluation, MetricSpec } from '../../run/harness.js';
import type { LMConfig } from './config.js';
import type { LMData } from './data.js';
import type { PerplexityResult } from './evaluation/perplexity.js';
import { EVAL_MODES, strideFor, type EvalMode } from './evaluation/windows.js';
import type { LMSession } from './methods/session.js';

/** Bound on batch × length per evaluation forward pass. */
export const MAX_BATCH_TOKENS = 4096;

export interface EvaluationFigure extends PerplexityResult {
  /** WikiText `.tokens` evaluated whole: exp(total NLL / (words + one end of line per line)). */
  wordPerplexity?: number;
}

/** What an LM cell's record carries in `details`. */
export interface LMDetails {
  evaluations: EvaluationFigure[];
  evalModeNotes?: Partial<Record<EvalMode, string>>;
}

export const MODE_TITLES: Record<EvalMode, string> = {
  nonoverlapping: 'nonoverlapping windows',
  sliding: 'sliding window',
};

export function metricKey(mode: EvalMode, length: number): string {
  return `${mode}@${length}`;
}

export function lmMetrics(config: LMConfig, modes: readonly EvalMode[] = EVAL_MODES): MetricSpec[] {
  return modes.flatMap((mode) =>
    config.evalLengths.map((length) => ({
      key: metricKey(mode, length),
      title: `${length}${length === config.trainLength ? ' (= L)' : ''}`,
      unit: `perplexity per token, ${MODE_TITLES[mode]}`,
      higherIsBetter: false,
    })),
  );
}

export async function evaluateLM(
  session: LMSession,
  context: EvaluateContext<LMConfig, LMData>,
): Promise<Evaluation> {
  const { config, data, store } = context;
  const words = data.evaluation.words;
  const evaluations: EvaluationFigure[] = [];
  for (const length of config.evalLengths)
    for (const mode of EVAL_MODES) {
      const result = await store.part(metricKey(mode, length), () =>
        session.evaluate(
          data.segments,
          {
            mode,
            length,
            stride: strideFor(length, config.strideRatio),
            maxBatchTokens: MAX_BATCH_TOKENS,
          },
          data.segmentContexts,
        ),
      );
      context.report(
        `${mode}@${length}  perplexity ${result.perplexity.toFixed(3)}  (${result.tokens} tokens, ${(result.wallMs / 1000).toFixed(1)} s)`,
      );
      evaluations.push(
        words === undefined ? result : { ...result, wordPerplexity: Math.exp(result.nll / words) },
      );
    }
  const details: LMDetails = {
    evaluations,
    ...(session.evalModeNotes && { evalModeNotes: session.evalModeNotes }),
  };
  return {
    metrics: Object.fromEntries(
      evaluations.map((e) => [metricKey(e.mode, e.length), e.perplexity]),
    ),
    details: details as unknown as Record<string, unknown>,
    // Summed over the evaluations, whichever process ran them.
    wallMs: evaluations.reduce((t, e) => t + e.wallMs, 0),
  };
}
