/**
 * From start/end logits to an answer, as the reference pipelines decode (BERT's `run_squad.py`,
 * HF's `postprocess_qa_predictions`): per window, the `nBest` highest start and end logits over
 * context tokens; every pair with start ≤ end and at most `maxAnswerLength` tokens is a candidate
 * scored start + end; the best candidate over all windows is mapped back to the context's
 * characters. For SQuAD 2.0 the null answer scores start + end at [CLS], its least score over the
 * windows counts, and "" is predicted when it beats the best span by more than `nullThreshold`.
 */
import type { Feature, TokenizedExample } from './data/features.js';

export interface DecodeSpec {
  nBest: number;
  maxAnswerLength: number;
  /** SQuAD 2.0: null score − best span score above which "" is predicted; undefined for 1.1. */
  nullThreshold?: number;
}

export interface FeatureLogits {
  feature: Feature;
  start: ArrayLike<number>;
  end: ArrayLike<number>;
}

export interface Decoded {
  text: string;
  /** Characters [start, end) of the context, when a span was chosen. */
  chars?: [number, number];
  /** Null score − best span score (SQuAD 2.0's null odds; written as the no-answer file). */
  nullOdds: number;
}

function topIndices(values: ArrayLike<number>, from: number, to: number, n: number): number[] {
  const indices = Array.from({ length: to - from }, (_, i) => from + i);
  return indices.sort((a, b) => values[b]! - values[a]! || a - b).slice(0, n);
}

export function decodeAnswer(
  context: string,
  tokenized: TokenizedExample,
  windows: readonly FeatureLogits[],
  spec: DecodeSpec,
): Decoded {
  let best: { score: number; first: number; last: number } | undefined;
  let nullScore = Infinity;
  for (const { feature: f, start, end } of windows) {
    nullScore = Math.min(nullScore, start[0]! + end[0]!);
    const from = f.contextOffset;
    const to = f.contextOffset + f.windowLength;
    const starts = topIndices(start, from, to, spec.nBest);
    const ends = topIndices(end, from, to, spec.nBest);
    for (const s of starts)
      for (const e of ends) {
        if (e < s || e - s + 1 > spec.maxAnswerLength) continue;
        const score = start[s]! + end[e]!;
        if (!best || score > best.score)
          best = { score, first: f.windowStart + s - from, last: f.windowStart + e - from };
      }
  }
  const nullOdds = best ? nullScore - best.score : Infinity;
  if (!best || (spec.nullThreshold !== undefined && nullOdds > spec.nullThreshold))
    return { text: '', nullOdds };
  const chars: [number, number] = [
    tokenized.context.starts[best.first]!,
    tokenized.context.ends[best.last]!,
  ];
  return { text: context.slice(chars[0], chars[1]), chars, nullOdds };
}
