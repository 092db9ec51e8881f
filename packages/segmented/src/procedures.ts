/**
 * The segmented-training procedures as comparisons list them. A benchmark harness builds its
 * rows from this list: `segmentBatch` for the segment rows, `extendPositionTable` for the
 * interpolation row.
 *
 * - segment rows: the model trains on Lt tokens made of 1/α segments drawn from a window of Le
 *   consecutive tokens (chunk-α: α·Lt-token chunks in order; prefix-α: a prefix and sampled
 *   tokens), every token at its original position in that window, so it sees the distances of a
 *   long input at the cost of a short one; α = 0.25 as the paper recommends, and 0.5, for the
 *   learned, ALiBi and RoPE families the paper trains (sinusoidal at 0.25 as well).
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

/** The paper's recommended α: four chunks of Lt/4. */
export const CHUNK_ALPHA = 0.25;

/** The α values the comparisons ablate: the recommended 0.25 and two segments of Lt/2. */
const ALPHAS = [0.25, 0.5] as const;

function segmentRow(
  base: string,
  method: SegmentMethod,
  alpha: number,
  options: { tableCoversWindow?: boolean; encodingPackage?: string } = {},
): SegmentProcedure {
  const what =
    method === 'chunk'
      ? `chunk-α segments (α = ${alpha}: ${1 / alpha} chunks of α·L in order)`
      : `prefix-α segments (α = ${alpha}: a contiguous suffix of α·L after sampled earlier tokens, loss on the suffix)`;
  return {
    kind: 'segments',
    name: `${base}+${method}${alpha}`,
    description: `${base} trained on ${what} keeping their original positions within the longest evaluation length`,
    method,
    alpha,
    encoding: { name: base },
    ...(options.encodingPackage && { encodingPackage: options.encodingPackage }),
    tableCoversWindow: options.tableCoversWindow ?? false,
  };
}

/** Every (method, α) of the ablation for one base encoding, chunk-0.25 first. */
function ablation(
  base: string,
  options: { tableCoversWindow?: boolean; encodingPackage?: string } = {},
): SegmentProcedure[] {
  return (['chunk', 'prefix'] as const).flatMap((method) =>
    ALPHAS.map((alpha) => segmentRow(base, method, alpha, options)),
  );
}

export const SEGMENTED_PROCEDURES: readonly SegmentedProcedure[] = [
  // The paper's three families (APE, RoPE, ALiBi), chunk-α and prefix-α at α = 0.25 and 0.5.
  ...ablation('learned', { tableCoversWindow: true }),
  segmentRow('sinusoidal', 'chunk', CHUNK_ALPHA),
  ...ablation('alibi'),
  ...ablation('rope', { encodingPackage: '@posenc/roformer' }),
  {
    kind: 'interpolation',
    name: 'learned+interpolate',
    description:
      'learned absolute positions trained at L, the table linearly interpolated to ⌈E/L⌉·L rows to evaluate at E > L',
    encoding: { name: 'learned' },
  },
];
