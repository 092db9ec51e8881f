/**
 * Nonoverlapping evaluation (Press, Smith & Lewis 2021, §2): the stream is cut into independent
 * L-token blocks, each scored in one pass. Without a cache the first token of each block has no
 * context (the "early token curse"). With a cache of L′ tokens — how the paper evaluates its PIA +
 * cache models — each block also sees the previous block's cached states, so every prediction
 * has between L′ + 1 and L′ + L tokens of context.
 */
import { tf, windowsAt, type DecoderLM } from '@posenc/core';
import { SubsequenceCache } from '../subsequence-cache.js';
import { FIRST_WINDOW_POSITION, windowPositions } from '../window-positions.js';
import {
  assertPositiveInteger,
  nllValues,
  perplexityOf,
  predictionCount,
  type PerplexityResult,
} from './perplexity.js';

export interface NonOverlappingOptions {
  /** Block length L. */
  length: number;
  /** L′: cached tokens of the previous block (0, the default, evaluates blocks independently). */
  cacheLength?: number;
  /** Blocks per forward pass when there is no cache; default 8. */
  batch?: number;
  /** Position of a window's first token; default 1. */
  firstPosition?: number;
}

export function evaluateNonOverlapping(
  model: DecoderLM,
  tokens: Int32Array,
  options: NonOverlappingOptions,
): PerplexityResult {
  const who = 'evaluateNonOverlapping';
  const { length, cacheLength = 0, batch = 8, firstPosition = FIRST_WINDOW_POSITION } = options;
  assertPositiveInteger(who, 'length', length);
  assertPositiveInteger(who, 'batch', batch);
  const n = predictionCount(tokens, who);
  const nll = new Float64Array(n);
  const starts = Array.from({ length: Math.ceil(n / length) }, (_, k) => k * length);
  const blockLength = (start: number): number => Math.min(length, n - start);

  // A bad L′ (negative, fractional) is refused by the cache itself.
  if (cacheLength !== 0) {
    // Block k needs block k − 1's states: one stream, one block at a time.
    const cache = new SubsequenceCache({ cacheLength, firstPosition });
    try {
      for (const start of starts) {
        const size = blockLength(start);
        const { inputs, targets } = windowsAt(tokens, [start], size);
        try {
          const logits = cache.forward(model, inputs);
          try {
            nll.set(nllValues(logits, targets), start);
          } finally {
            logits.dispose();
          }
        } finally {
          tf.dispose([inputs, targets]);
        }
      }
    } finally {
      cache.dispose();
    }
    return perplexityOf(nll);
  }

  const full = starts.filter((s) => blockLength(s) === length);
  const groups: number[][] = [];
  for (let i = 0; i < full.length; i += batch) groups.push(full.slice(i, i + batch));
  const last = starts[starts.length - 1]!;
  if (blockLength(last) < length) groups.push([last]);
  for (const group of groups) {
    const size = blockLength(group[0]!);
    scoreWindows(model, tokens, group, size, firstPosition, (row, values) =>
      nll.set(values, group[row]!),
    );
  }
  return perplexityOf(nll);
}

/**
 * Runs windows of `size` tokens at `starts` in one batch (positions from `firstPosition`) and
 * hands each row's per-token NLL to `take`.
 */
export function scoreWindows(
  model: DecoderLM,
  tokens: Int32Array,
  starts: readonly number[],
  size: number,
  firstPosition: number,
  take: (row: number, nll: Float32Array) => void,
): void {
  const { inputs, targets } = windowsAt(tokens, starts, size);
  const { positions } = windowPositions(starts.length, 0, size, firstPosition);
  try {
    const values = tf.tidy(() => {
      const { logits } = model.forward(inputs, { positions });
      return logits;
    });
    let all: Float32Array;
    try {
      all = nllValues(values, targets);
    } finally {
      values.dispose();
    }
    starts.forEach((_, row) => take(row, all.subarray(row * size, (row + 1) * size)));
  } finally {
    tf.dispose([inputs, targets, positions.ids]);
  }
}
