/**
 * What the segment samplers share: validation of α, Lt, Le and the source, a seeded generator,
 * and uniform draws of sorted distinct integers.
 */
import { mulberry32 } from '@posenc/core';

export interface SegmentOptions {
  /**
   * Positions the sample may draw from, 0 … sourceLength − 1. For next-token training this is a
   * document's length − 1, so that every drawn token has its true next token as target.
   */
  sourceLength: number;
  /** Lt: tokens in a sample (the length the model trains on). */
  trainLength: number;
  /** α in (0, 1]: chunk-α takes 1/α chunks of α·Lt tokens; prefix-α a suffix of α·Lt tokens. */
  alpha: number;
  /**
   * Le: the sample is drawn from a window of Le consecutive positions at a random offset, and its
   * ids count from the window's start, so they stay below Le (the length the model is extended
   * to). Default: the whole source, ids = the original positions in it.
   */
  extendedLength?: number;
  /** The sample is a pure function of the options and this seed. */
  seed: number;
}

/** A sampled segment: Lt strictly increasing position ids inside a window of the source. */
export interface Segment {
  /** Source index of the window's first position: id p is source position offset + p. */
  offset: number;
  /** Lt ids, strictly increasing, in [0, window). */
  ids: Int32Array;
  /** Positions the window spans: min(Le, sourceLength). */
  window: number;
}

export function assertInteger(who: string, field: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${who}: ${field} = ${value} is not allowed; expected an integer ≥ ${min}`);
}

/** α·Lt as an exact integer, or an error naming both. */
export function alphaTokens(who: string, alpha: number, trainLength: number): number {
  if (!Number.isFinite(alpha) || alpha <= 0 || alpha > 1)
    throw new Error(`${who}: alpha = ${alpha} is not allowed; expected a number in (0, 1]`);
  const tokens = Math.round(alpha * trainLength);
  if (Math.abs(alpha * trainLength - tokens) > 1e-9)
    throw new Error(
      `${who}: alpha = ${alpha} is not allowed with trainLength = ${trainLength}; α·Lt = ${alpha * trainLength} must be a whole number of tokens`,
    );
  return tokens;
}

/** Validates the options and draws the window; returns the generator for the rest of the sample. */
export function sampleWindow(
  who: string,
  options: SegmentOptions,
): { offset: number; window: number; next: () => number } {
  const { sourceLength, trainLength, extendedLength, seed } = options;
  assertInteger(who, 'trainLength', trainLength, 1);
  assertInteger(who, 'sourceLength', sourceLength, 0);
  if (extendedLength !== undefined)
    assertInteger(who, 'extendedLength', extendedLength, trainLength);
  if (!Number.isInteger(seed))
    throw new Error(`${who}: seed = ${seed} is not allowed; expected an integer`);
  if (sourceLength < trainLength)
    throw new Error(
      `${who}: sourceLength = ${sourceLength} is not allowed; the source must hold at least trainLength = ${trainLength} positions`,
    );
  const next = mulberry32(seed);
  const window = Math.min(extendedLength ?? sourceLength, sourceLength);
  const offset = randomInt(next, sourceLength - window + 1);
  return { offset, window, next };
}

/** Uniform integer in [0, n). */
export function randomInt(next: () => number, n: number): number {
  return Math.min(n - 1, Math.floor(next() * n));
}

/**
 * `count` distinct integers drawn uniformly from [0, range), sorted ascending (Floyd's algorithm:
 * every subset is equally likely, in O(count) draws).
 */
export function sortedDistinct(next: () => number, count: number, range: number): number[] {
  if (count > range)
    throw new Error(`sortedDistinct: cannot draw ${count} distinct values from ${range}`);
  const chosen = new Set<number>();
  for (let j = range - count; j < range; j++) {
    const t = randomInt(next, j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((a, b) => a - b);
}
