/**
 * `evaluate-v2.0.py`: exact match and F1 per question against its non-empty ground truths (an
 * unanswerable question's only ground truth is the empty string), a question counted as "no
 * answer" when its no-answer probability exceeds the threshold, the totals over the answered
 * questions and, for files with both kinds, the HasAns / NoAns breakdown; with no-answer
 * probabilities, the best threshold for each metric. Maps keep insertion order like Python's
 * dicts (a repeated id keeps its first place and its last value), so every sum runs in the
 * script's order.
 */
import type { GoldQuestion } from './gold-questions.js';
import { exactMatch, f1V2 } from './metrics.js';
import { normalizeAnswer } from './normalize.js';

/** The script's output, in its key order. */
export type V2Scores = Record<string, number>;

export interface V2Options {
  /**
   * No-answer probabilities by question id in the file's key order (`--na-prob-file`); without
   * them every question gets 0 and no best threshold is searched.
   */
  naProbs?: ReadonlyMap<string, number>;
  /** A question is predicted unanswerable when its probability exceeds this (default 1.0). */
  naProbThreshold?: number;
  /** Ids whose probability the file wrote as an integer (`1`, not `1.0`): Python prints it so. */
  integerNaProbs?: ReadonlySet<string>;
}

export interface V2Evaluation {
  scores: V2Scores;
  /** Keys of `scores` that Python prints as integers (the totals, a threshold read as an int). */
  integerKeys: Set<string>;
  /** The script's `Missing prediction for <id>` lines. */
  messages: string[];
}

export const DEFAULT_NA_PROB_THRESHOLD = 1.0;

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

function evalDict(
  exact: ReadonlyMap<string, number>,
  f1: ReadonlyMap<string, number>,
  ids?: readonly string[],
): [number, number, number] {
  if (!ids) {
    if (exact.size === 0)
      throw new Error('no question has a prediction (the v2.0 script divides by their number)');
    return [
      (100.0 * sum(exact.values())) / exact.size,
      (100.0 * sum(f1.values())) / f1.size,
      exact.size,
    ];
  }
  const at = (scores: ReadonlyMap<string, number>, id: string) => {
    const s = scores.get(id);
    // The script stops with a KeyError here; name the question instead.
    if (s === undefined)
      throw new Error(
        `question ${id} has no prediction; the v2.0 script needs one for every question of the file`,
      );
    return s;
  };
  return [
    (100.0 * sum(ids.map((id) => at(exact, id)))) / ids.length,
    (100.0 * sum(ids.map((id) => at(f1, id)))) / ids.length,
    ids.length,
  ];
}

/** `find_best_thresh`: sweeps the threshold over the probabilities in ascending order. */
function bestThreshold(
  predictions: ReadonlyMap<string, string>,
  scores: ReadonlyMap<string, number>,
  naProbs: ReadonlyMap<string, number>,
  hasAnswer: ReadonlyMap<string, boolean>,
): [score: number, threshold: number, thresholdId: string | undefined] {
  let current = 0;
  for (const has of hasAnswer.values()) if (!has) current++;
  let best = current;
  let threshold = 0.0;
  let thresholdId: string | undefined;
  // Array.prototype.sort is stable, as Python's sorted: ties keep the file's order.
  const ids = [...naProbs.keys()].sort((a, b) => naProbs.get(a)! - naProbs.get(b)!);
  for (const id of ids) {
    const score = scores.get(id);
    if (score === undefined) continue;
    current += hasAnswer.get(id) ? score : predictions.get(id) ? -1 : 0;
    if (current > best) {
      best = current;
      threshold = naProbs.get(id)!;
      thresholdId = id;
    }
  }
  return [(100.0 * best) / scores.size, threshold, thresholdId];
}

export function evaluateV2(
  questions: readonly GoldQuestion[],
  predictions: ReadonlyMap<string, string>,
  options: V2Options = {},
): V2Evaluation {
  const threshold = options.naProbThreshold ?? DEFAULT_NA_PROB_THRESHOLD;
  const naProbs = options.naProbs ?? new Map([...predictions.keys()].map((id) => [id, 0.0]));
  const hasAnswer = new Map<string, boolean>();
  for (const q of questions) hasAnswer.set(q.id, q.answers.length > 0);
  const messages: string[] = [];
  const exactRaw = new Map<string, number>();
  const f1Raw = new Map<string, number>();
  for (const q of questions) {
    const nonEmpty = q.answers.filter((a) => normalizeAnswer(a));
    const gold = nonEmpty.length ? nonEmpty : [''];
    const prediction = predictions.get(q.id);
    if (prediction === undefined) {
      messages.push(`Missing prediction for ${q.id}`);
      continue;
    }
    exactRaw.set(q.id, Math.max(...gold.map((g) => exactMatch(g, prediction))));
    f1Raw.set(q.id, Math.max(...gold.map((g) => f1V2(g, prediction))));
  }
  const applyThreshold = (raw: ReadonlyMap<string, number>) => {
    const out = new Map<string, number>();
    for (const [id, score] of raw) {
      const p = naProbs.get(id);
      if (p === undefined)
        throw new Error(`question ${id} has no no-answer probability in the --na-probs file`);
      out.set(id, p > threshold ? (hasAnswer.get(id) ? 0.0 : 1.0) : score);
    }
    return out;
  };
  const exact = applyThreshold(exactRaw);
  const f1 = applyThreshold(f1Raw);
  const scores: V2Scores = {};
  const integerKeys = new Set<string>();
  const put = (prefix: string, [e, f, total]: [number, number, number]) => {
    scores[`${prefix}exact`] = e;
    scores[`${prefix}f1`] = f;
    scores[`${prefix}total`] = total;
    integerKeys.add(`${prefix}total`);
  };
  put('', evalDict(exact, f1));
  const hasIds = [...hasAnswer].filter(([, has]) => has).map(([id]) => id);
  const noIds = [...hasAnswer].filter(([, has]) => !has).map(([id]) => id);
  if (hasIds.length) put('HasAns_', evalDict(exact, f1, hasIds));
  if (noIds.length) put('NoAns_', evalDict(exact, f1, noIds));
  if (options.naProbs) {
    for (const [name, raw] of [
      ['exact', exactRaw],
      ['f1', f1Raw],
    ] as const) {
      const [best, threshold, id] = bestThreshold(predictions, raw, naProbs, hasAnswer);
      scores[`best_${name}`] = best;
      scores[`best_${name}_thresh`] = threshold;
      if (id !== undefined && options.integerNaProbs?.has(id))
        integerKeys.add(`best_${name}_thresh`);
    }
  }
  return { scores, integerKeys, messages };
}
