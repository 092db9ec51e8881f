/**
 * Per-answer scores of the official scripts. v1.1 and v2.0 agree except on empty answers: v2.0
 * gives F1 1 when prediction and ground truth are both empty after normalisation (the
 * no-answer case), v1.1 gives 0 whenever no token is shared.
 */
import { normalizeAnswer, pythonSplit } from './normalize.js';

export function exactMatch(prediction: string, groundTruth: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(groundTruth) ? 1 : 0;
}

/** Tokens both lists share, counted with multiplicity (`Counter & Counter`). */
function sharedTokens(a: readonly string[], b: readonly string[]): number {
  const counts = new Map<string, number>();
  for (const t of a) counts.set(t, (counts.get(t) ?? 0) + 1);
  let shared = 0;
  for (const t of b) {
    const left = counts.get(t) ?? 0;
    if (left > 0) {
      shared++;
      counts.set(t, left - 1);
    }
  }
  return shared;
}

/** Harmonic mean of token precision and recall, in the scripts' order of operations. */
function overlapF1(predicted: readonly string[], gold: readonly string[]): number {
  const same = sharedTokens(predicted, gold);
  if (same === 0) return 0;
  const precision = (1.0 * same) / predicted.length;
  const recall = (1.0 * same) / gold.length;
  return (2 * precision * recall) / (precision + recall);
}

/** v1.1's `f1_score(prediction, ground_truth)`. */
export function f1V1(prediction: string, groundTruth: string): number {
  return overlapF1(
    pythonSplit(normalizeAnswer(prediction)),
    pythonSplit(normalizeAnswer(groundTruth)),
  );
}

/** v2.0's `get_tokens`: an empty string has no tokens. */
function tokensV2(text: string): string[] {
  return text ? pythonSplit(normalizeAnswer(text)) : [];
}

/** v2.0's `compute_f1(a_gold, a_pred)`. */
export function f1V2(groundTruth: string, prediction: string): number {
  const gold = tokensV2(groundTruth);
  const predicted = tokensV2(prediction);
  if (gold.length === 0 || predicted.length === 0)
    return gold.length === predicted.length && gold.every((t, i) => t === predicted[i]) ? 1 : 0;
  return overlapF1(predicted, gold);
}

/** `max(scores)` over the ground truths; the scripts fail on an empty list, so do we. */
export function maxOverGroundTruths(
  id: string,
  groundTruths: readonly string[],
  score: (groundTruth: string) => number,
): number {
  if (groundTruths.length === 0)
    throw new Error(`question ${id} has no ground-truth answer to score against`);
  return Math.max(...groundTruths.map(score));
}
