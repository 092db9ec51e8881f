/**
 * A trained cell's evaluation: perplexity per token at every evaluation length (sliding windows up
 * to the training length, see `scoredAt`), on
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

/**
 * Whether a mode is scored at an evaluation length: nonoverlapping windows at every length,
 * sliding windows up to the training length L only. The sliding mode exists to score the targets
 * of nonoverlapping blocks with more context each (Press et al. 2021, §2; the ALiBi paper scores
 * it at L, App. B), so it is never worse than nonoverlapping beyond noise
 * (`methods/mode-property.test.ts`). Past L that no longer holds: a window of N scores only its
 * last S tokens, at positions N − S … N − 1, all past L for S ≤ N − L, so it measures how a method
 * does at its farthest positions, not what more context gives, and every method here that gets
 * worse past L is worse there by construction (at the `compare` preset RoPE's sliding figure at
 * 2 × L was 4.49 against 4.13 nonoverlapping). Those cells are n/a in the report.
 */
export function scoredAt(mode: EvalMode, length: number, trainLength: number): boolean {
  return mode === 'nonoverlapping' || length <= trainLength;
}

/** Why a mode is n/a at the lengths `scoredAt` leaves out, for the report. */
export const NOT_SCORED_REASON: Partial<Record<EvalMode, string>> = {
  sliding:
    'past L a sliding window of N scores only its last S tokens, at positions N − S … N − 1 (all past L at the default S = N/2 from N = 2L on), so it measures the farthest positions instead of giving the same targets more context, the property the mode exists for; read the nonoverlapping figure there',
};

export function lmMetrics(config: LMConfig, modes: readonly EvalMode[] = EVAL_MODES): MetricSpec[] {
  return modes.flatMap((mode) =>
    config.evalLengths
      .filter((length) => scoredAt(mode, length, config.trainLength))
      .map((length) => ({
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
      if (!scoredAt(mode, length, config.trainLength)) continue;
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
