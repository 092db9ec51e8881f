/**
 * prefix-α (Karypis, McAuley & Karypis 2024, §3): a contiguous suffix of α·Lt tokens starting at
 * a random index i, preceded by (1 − α)·Lt tokens sampled from the positions before i, all with
 * their original position ids; the loss counts on the suffix only. The paper's description
 * ("randomly sampling a prefix … from positions before i") is read here as a uniformly drawn
 * subset of those positions, kept in order. The paper finds it weaker than chunk-α.
 */
import {
  alphaTokens,
  randomInt,
  sampleWindow,
  sortedDistinct,
  type Segment,
  type SegmentOptions,
} from './segment-options.js';

export interface PrefixSegment extends Segment {
  /** α·Lt: tokens of the contiguous suffix. */
  suffixLength: number;
  /** Id of the suffix's first token (i). */
  suffixStart: number;
  /** `[Lt]`: 0 on the sampled prefix, 1 on the suffix. */
  lossMask: Uint8Array;
}

export function samplePrefix(options: SegmentOptions): PrefixSegment {
  const who = 'samplePrefix';
  const { trainLength, alpha } = options;
  const suffixLength = alphaTokens(who, alpha, trainLength);
  const prefixLength = trainLength - suffixLength;
  const { offset, window, next } = sampleWindow(who, options);
  // i ∈ [prefixLength, window − suffixLength]: enough positions before it and room for the suffix.
  const suffixStart = prefixLength + randomInt(next, window - trainLength + 1);
  const prefix = sortedDistinct(next, prefixLength, suffixStart);
  const ids = new Int32Array(trainLength);
  ids.set(prefix);
  for (let i = 0; i < suffixLength; i++) ids[prefixLength + i] = suffixStart + i;
  const lossMask = new Uint8Array(trainLength);
  lossMask.fill(1, prefixLength);
  return { offset, window, ids, suffixLength, suffixStart, lossMask };
}
