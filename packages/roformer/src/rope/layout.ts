/**
 * Which features rotate together. RoFormer (Su et al. 2021, Eq. 34), HF `RoFormer`, GPT-J and
 * rotary-embedding-torch pair adjacent features (2i, 2i+1): the `interleaved` layout. GPT-NeoX,
 * HF LLaMA and keras-hub pair feature i with i + d/2: the `half` layout (`rotate_half`). Pair i
 * turns at frequency θ_i in both, so the two are the same map up to a permutation of features;
 * weights trained in one layout serve the other once the q/k projections are permuted (HF's
 * `convert_llama_weights_to_hf.py` `permute` does this for LLaMA).
 */

export type RopeLayout = 'interleaved' | 'half';
export const ROPE_LAYOUTS: readonly RopeLayout[] = ['interleaved', 'half'];

export interface PairIndices {
  /** Feature index (within the rotated slice) of the first member of pair p. */
  readonly first: Int32Array;
  /** Feature index of the second member, which receives +sin·first. */
  readonly second: Int32Array;
}

/**
 * Feature indices of each pair within a rotated slice of `rotaryDim` features. `chunks` > 1
 * splits the slice into equal chunks (the axes of axial RoPE) that each follow the layout on
 * their own, as rotary-embedding-torch's `get_axial_freqs` concatenates per-axis tables.
 */
export function pairIndices(rotaryDim: number, layout: RopeLayout, chunks = 1): PairIndices {
  assertLayout(layout);
  if (!Number.isInteger(chunks) || chunks < 1 || rotaryDim % (2 * chunks) !== 0)
    throw new Error(
      `pairIndices: rotaryDim = ${rotaryDim} must split into ${chunks} chunk(s) of an even number of features`,
    );
  const pairs = rotaryDim / 2;
  const first = new Int32Array(pairs);
  const second = new Int32Array(pairs);
  const half = pairs / chunks; // pairs per chunk
  for (let p = 0; p < pairs; p++) {
    if (layout === 'interleaved') {
      first[p] = 2 * p;
      second[p] = 2 * p + 1;
    } else {
      const chunk = Math.floor(p / half);
      first[p] = chunk * 2 * half + (p % half);
      second[p] = first[p]! + half;
    }
  }
  return { first, second };
}

export interface LayoutPermutationOptions {
  /** Rotated features; default `headDim − startIndex`. */
  rotaryDim?: number;
  /** First rotated feature; default 0. Features outside the rotated slice stay in place. */
  startIndex?: number;
  /** Axial chunks (2 for axial 2D RoPE); default 1. */
  chunks?: number;
}

/**
 * Index map of one head's features from layout `from` to layout `to`: feature j of the converted
 * vector is feature `perm[j]` of the original. Rotating the converted vector in `to` turns the
 * same two numbers at the same frequency as rotating the original in `from`, so q·k is unchanged.
 */
export function layoutPermutation(
  headDim: number,
  from: RopeLayout,
  to: RopeLayout,
  options: LayoutPermutationOptions = {},
): Int32Array {
  const start = options.startIndex ?? 0;
  const rotaryDim = options.rotaryDim ?? headDim - start;
  if (!Number.isInteger(start) || start < 0 || start + rotaryDim > headDim)
    throw new Error(
      `layoutPermutation: startIndex = ${start} with rotaryDim = ${rotaryDim} does not fit in headDim = ${headDim}`,
    );
  const perm = Int32Array.from({ length: headDim }, (_, j) => j);
  const a = pairIndices(rotaryDim, from, options.chunks ?? 1);
  const b = pairIndices(rotaryDim, to, options.chunks ?? 1);
  for (let p = 0; p < rotaryDim / 2; p++) {
    perm[start + b.first[p]!] = start + a.first[p]!;
    perm[start + b.second[p]!] = start + a.second[p]!;
  }
  return perm;
}

/** The same permutation for each of `heads` consecutive heads of `headDim` features. */
export function headsLayoutPermutation(
  heads: number,
  headDim: number,
  from: RopeLayout,
  to: RopeLayout,
  options: LayoutPermutationOptions = {},
): Int32Array {
  const one = layoutPermutation(headDim, from, to, options);
  const all = new Int32Array(heads * headDim);
  for (let h = 0; h < heads; h++)
    for (let j = 0; j < headDim; j++) all[h * headDim + j] = h * headDim + one[j]!;
  return all;
}

export function assertLayout(layout: unknown): asserts layout is RopeLayout {
  if (!(ROPE_LAYOUTS as readonly unknown[]).includes(layout))
    throw new Error(
      `rope: layout = ${JSON.stringify(layout)} is not allowed; expected 'interleaved' (RoFormer, GPT-J: pairs 2i, 2i+1) or 'half' (GPT-NeoX, LLaMA: pairs i, i+d/2)`,
    );
}
