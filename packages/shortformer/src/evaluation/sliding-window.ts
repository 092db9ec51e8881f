/**
 * Sliding-window evaluation with stride S (Press, Smith & Lewis 2021, §2; Hugging Face's
 * "Perplexity of fixed-length models"): L-token windows advance by S tokens, and each window
 * scores only the predictions not scored before — the last S of it, all L for the first window.
 * Every prediction after the first window therefore sees at least L − S earlier tokens. S = L is
 * nonoverlapping evaluation; S = 1 is token-by-token without a cache (O(L) passes per token's worth
 * of work). fairseq's `--context-window C` is this with S = L − C.
 *
 * A model trained with the cache is scored with it here too: the windows run in order and each
 * one also attends to the cached states of the L′ tokens before it (computed when those tokens
 * were in an earlier window), so a scored prediction sees at least L′ + L − S tokens, and with
 * S = L this is nonoverlapping evaluation with the cache.
 */
import { tf, windowsAt, type DecoderLM } from '@posenc/core';
import { SubsequenceCache } from '../subsequence-cache.js';
import { FIRST_WINDOW_POSITION } from '../window-positions.js';
import { scoreWindows } from './nonoverlapping.js';
import {
  assertPositiveInteger,
  nllValues,
  perplexityOf,
  predictionCount,
  type PerplexityResult,
} from './perplexity.js';

export interface SlidingWindowOptions {
  /** Window length L. */
  length: number;
  /** Stride S, 1 ≤ S ≤ L. */
  stride: number;
  /** Windows per forward pass when there is no cache; default 8. */
  batch?: number;
  /** L′: cached tokens before each window (0, the default, scores windows independently). */
  cacheLength?: number;
  /** Position of a window's first token; default 1. */
  firstPosition?: number;
}

/** A window of the evaluation: its first input token and the first of its predictions it scores. */
export interface ScoredWindow {
  start: number;
  /** Predictions `[scoreFrom, start + length)` of the stream are scored by this window. */
  scoreFrom: number;
}

/**
 * The windows that score each of `predictions` predictions exactly once. When the stride does not
 * land on the end, a last window ending at the stream's end scores the remaining predictions.
 */
export function slidingWindows(
  predictions: number,
  length: number,
  stride: number,
): ScoredWindow[] {
  const who = 'slidingWindows';
  assertPositiveInteger(who, 'length', length);
  assertPositiveInteger(who, 'stride', stride);
  if (stride > length)
    throw new Error(
      `${who}: stride = ${stride} is not allowed; expected 1 ≤ stride ≤ length = ${length}`,
    );
  if (predictions <= length) return [{ start: 0, scoreFrom: 0 }];
  const windows: ScoredWindow[] = [{ start: 0, scoreFrom: 0 }];
  let scoredTo = length;
  for (let start = stride; start + length <= predictions; start += stride) {
    windows.push({ start, scoreFrom: scoredTo });
    scoredTo = start + length;
  }
  if (scoredTo < predictions) windows.push({ start: predictions - length, scoreFrom: scoredTo });
  return windows;
}

export function evaluateSlidingWindow(
  model: DecoderLM,
  tokens: Int32Array,
  options: SlidingWindowOptions,
): PerplexityResult {
  const who = 'evaluateSlidingWindow';
  const {
    length,
    stride,
    batch = 8,
    cacheLength = 0,
    firstPosition = FIRST_WINDOW_POSITION,
  } = options;
  assertPositiveInteger(who, 'batch', batch);
  const n = predictionCount(tokens, who);
  const windows = slidingWindows(n, length, stride);
  const size = Math.min(length, n);
  const nll = new Float64Array(n);
  // A bad L′ (negative, fractional) is refused by the cache itself.
  if (cacheLength !== 0) {
    // Window k needs the states window k − 1 computed: one window at a time, in order.
    const cache = new SubsequenceCache({ cacheLength, firstPosition });
    try {
      windows.forEach(({ start, scoreFrom }, k) => {
        const { inputs, targets } = windowsAt(tokens, [start], size);
        try {
          const nextStart = (windows[k + 1]?.start ?? start + size) - start;
          const logits = cache.forward(model, inputs, { nextStart });
          try {
            nll.set(nllValues(logits, targets).subarray(scoreFrom - start), scoreFrom);
          } finally {
            logits.dispose();
          }
        } finally {
          tf.dispose([inputs, targets]);
        }
      });
    } finally {
      cache.dispose();
    }
    return perplexityOf(nll);
  }
  for (let i = 0; i < windows.length; i += batch) {
    const group = windows.slice(i, i + batch);
    scoreWindows(
      model,
      tokens,
      group.map((w) => w.start),
      size,
      firstPosition,
      (row, values) => {
        const { start, scoreFrom } = group[row]!;
        nll.set(values.subarray(scoreFrom - start), scoreFrom);
      },
    );
  }
  return perplexityOf(nll);
}
