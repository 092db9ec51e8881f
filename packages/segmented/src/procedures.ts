/**
 * The segmented-training procedures as comparisons list them. A benchmark harness builds its
 * rows from this list: `segmentBatch` for the segment rows, `extendPositionTable` for the
 * interpolation row.
 *
 * - segment rows: the model trains on Lt tokens made of 1/α segments drawn from a window of Le
 *   consecutive tokens (chunk-α: α·Lt-token chunks in order; prefix-α: a prefix and sampled
 *   tokens), every token at its original position in that window, so it sees the distances of a
 *   long input at the cost of a short one; α = 0.25 as the paper recommends.
 * - the interpolation row: the learned absolute table trained at Lt, then for an evaluation length
 *   E > Lt stretched to r·Lt rows, r = ⌈E/Lt⌉, by the paper's linear interpolation, without
 *   further training.
 */
import type { SegmentMethod } from './segment-batch.js';

export const PAPER = 'Karypis, McAuley & Karypis 2024, arXiv 2310.14633';

export interface SegmentProcedure {
  readonly kind: 'segments';
  readonly name: string;
  readonly description: string;
  readonly method: SegmentMethod;
  readonly alpha: number;
  /** The encoding trained on segments, as a registry config. */
  readonly encoding: { readonly name: string; readonly [field: string]: unknown };
  /** The package that registers that encoding, when it is not @posenc/core. */
  readonly encodingPackage?: string;
  /** A learned table must have rows for every position of the Le window. */
  readonly tableCoversWindow: boolean;
}

export interface InterpolationProcedure {
  readonly kind: 'interpolation';
  readonly name: string;
  readonly description: string;
  /** The learned absolute encoding whose table is stretched. */
  readonly encoding: { readonly name: 'learned' };
}

export type SegmentedProcedure = SegmentProcedure | InterpolationProcedure;

export const CHUNK_ALPHA = 0.25;

function chunkRow(
  base: string,
  options: { tableCoversWindow?: boolean; encodingPackage?: string } = {},
): SegmentProcedure {
  return {
    kind: 'segments',
    name: `${base}+chunk${CHUNK_ALPHA}`,
    description: `${base} trained on chunk-α segments (α = ${CHUNK_ALPHA}) keeping their original positions within the longest evaluation length`,
    method: 'chunk',
    alpha: CHUNK_ALPHA,
    encoding: { name: base },
    ...(options.encodingPackage && { encodingPackage: options.encodingPackage }),
    tableCoversWindow: options.tableCoversWindow ?? false,
  };
}

export const SEGMENTED_PROCEDURES: readonly SegmentedProcedure[] = [
  chunkRow('learned', { tableCoversWindow: true }),
  chunkRow('sinusoidal'),
  chunkRow('alibi'),
  chunkRow('rope', { encodingPackage: '@posenc/roformer' }),
  {
    kind: 'interpolation',
    name: 'learned+interpolate',
    description:
      'learned absolute positions trained at L, the table linearly interpolated to ⌈E/L⌉·L rows to evaluate at E > L',
    encoding: { name: 'learned' },
  },
];
