/**
 * chunk-α (Karypis, McAuley & Karypis 2024, §3): from a long input, take 1/α contiguous,
 * non-overlapping chunks of α·Lt tokens each, in order, and concatenate them into one Lt-token
 * training sample whose tokens keep their original position ids. The model sees the pairwise
 * distances of a long input at the cost of a short one; the ids go to core's explicit
 * `positions`, so any encoding that reads positions (learned absolute, sinusoidal, ALiBi, RoPE)
 * trains on them unchanged. The paper recommends α = 0.25.
 */
import {
  alphaTokens,
  sampleWindow,
  sortedDistinct,
  type Segment,
  type SegmentOptions,
} from './segment-options.js';

export interface ChunkSegment extends Segment {
  /** α·Lt. */
  chunkLength: number;
  /** Id of each chunk's first token, ascending; chunk c holds ids chunkStarts[c] … + chunkLength − 1. */
  chunkStarts: number[];
}

/**
 * A chunk-α sample. Every placement of the 1/α chunks in the window is equally likely: the gaps
 * before the chunks are a uniformly drawn multiset (stars and bars over the W − Lt free positions).
 */
export function sampleChunks(options: SegmentOptions): ChunkSegment {
  const who = 'sampleChunks';
  const { trainLength, alpha } = options;
  const chunkLength = alphaTokens(who, alpha, trainLength);
  const chunks = trainLength / chunkLength;
  if (!Number.isInteger(chunks))
    throw new Error(
      `${who}: alpha = ${alpha} is not allowed; 1/α must be a whole number of chunks (e.g. 0.5, 0.25, 0.125)`,
    );
  const { offset, window, next } = sampleWindow(who, options);
  const free = window - trainLength;
  // Distinct s_0 < … < s_{k−1} in [0, free + k) ↔ gaps g_c = s_c − c with 0 ≤ g_0 ≤ … ≤ free.
  const chunkStarts = sortedDistinct(next, chunks, free + chunks).map(
    (s, c) => s - c + c * chunkLength,
  );
  const ids = new Int32Array(trainLength);
  chunkStarts.forEach((start, c) => {
    for (let i = 0; i < chunkLength; i++) ids[c * chunkLength + i] = start + i;
  });
  return { offset, window, ids, chunkLength, chunkStarts };
}
