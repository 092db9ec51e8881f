/**
 * What is scored. Evaluating a whole split at every length in two modes is too slow on a CPU, so
 * the benchmark scores `segments` of the evaluation stream: equal spans at evenly spaced offsets,
 * each long enough for two windows of the longest evaluation length. Every evaluation length and
 * mode scores exactly the same target tokens, so the columns of the table are comparable. With
 * `'all'`, the whole stream is one segment (the standard protocol).
 */
import type { TokenArray } from './token-array.js';

export interface EvalSegmentsOptions {
  /** Targets to score in all; 'all' scores the whole stream. */
  maxTokens: number | 'all';
  /** Longest evaluation length; a segment holds 2× this many targets. */
  longestLength: number;
}

/** Each segment is `targets + 1` tokens: its first token is context only. */
export function evalSegments(stream: TokenArray, options: EvalSegmentsOptions): TokenArray[] {
  return evalSegmentStarts(stream.length, options).map(({ start, end }) =>
    start === 0 && end === stream.length ? stream : stream.subarray(start, end),
  );
}

/**
 * Up to `length` tokens of the stream just before each segment: a method that carries a cache
 * between windows (Shortformer) starts each segment with these cached, as it would partway
 * through the stream; the first segment of a stream gets what precedes it (nothing at 0).
 */
export function segmentContexts(
  stream: TokenArray,
  options: EvalSegmentsOptions & { length: number },
): TokenArray[] {
  return evalSegmentStarts(stream.length, options).map(({ start }) =>
    stream.subarray(Math.max(0, start - options.length), start),
  );
}

function evalSegmentStarts(
  streamLength: number,
  options: EvalSegmentsOptions,
): { start: number; end: number }[] {
  const { maxTokens, longestLength } = options;
  const available = streamLength - 1;
  if (available < longestLength)
    throw new Error(
      `the evaluation split has ${available} target tokens, fewer than the longest evaluation length ${longestLength}`,
    );
  if (maxTokens === 'all' || maxTokens >= available) return [{ start: 0, end: streamLength }];
  const segmentTargets = Math.min(available, 2 * longestLength);
  const span = segmentTargets + 1;
  const count = Math.max(
    1,
    Math.min(Math.floor(streamLength / span), Math.round(maxTokens / segmentTargets)),
  );
  const segments: { start: number; end: number }[] = [];
  for (let i = 0; i < count; i++) {
    // Centred at (i + ½)/count of the stream; count·span ≤ length keeps them apart.
    const start = Math.min(
      streamLength - span,
      Math.max(0, Math.floor(((i + 0.5) * streamLength) / count - span / 2)),
    );
    segments.push({ start, end: start + span });
  }
  return segments;
}
