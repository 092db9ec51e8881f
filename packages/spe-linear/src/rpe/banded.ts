/**
 * Kernelized attention with a relative bias whose table is constant past a reach R (clipped
 * offsets, or T5's logarithmic buckets, which saturate at maxDistance), in O(N·(2R + T)·(m + Dv))
 * with dense block products instead of FFTs. This is the same Toeplitz weighting `toeplitz.ts`
 * applies by FFT, computed exactly by splitting it:
 *
 *   C_ij = c(p_j − p_i) = { c(τ) for |τ| ≤ R;  c_lo for τ < −R;  c_hi for τ > R }.
 *
 * Positions are cut into blocks of T. For the queries of block b, every key more than
 * w = ⌈R/T⌉ blocks before has τ < −R and every key more than w blocks after has τ > R, so
 *
 *   num_b = (φ(Q_b)φ(K_win)ᵀ ⊙ C_win)·V_win                  (the 2w + 1 blocks around b, exact C)
 *         + φ(Q_b)·(c_lo·Σ_{blocks < b−w} φ(k)vᵀ + c_hi·Σ_{blocks > b+w} φ(k)vᵀ)
 *
 * and the normaliser likewise with φ(k) in place of φ(k)vᵀ. The far sums are read from prefix
 * sums of the per-block sums (`prefix-sums.ts`), so nothing of size [N, m·Dv] is stored.
 * C_win is one [T, (2w+1)T] matrix for every block because positions are consecutive, which is
 * what this path requires (`consecutiveLayout`); rows with gaps go to the FFT.
 *
 * Everything is TF.js ops, so the gradient (to q, k, v and the bias table) is TF.js's own, and
 * the products run on the engine's GEMM on every core. The arithmetic is about
 * 1 + W·(m + Dv)/(2·m·Dv) times plain linear attention's: 6.9× at R = 128 (T = 128, W = 384) and
 * m = Dv = 64, against 37× for radix-2 FFTs at N = 8k. At N = 8k on 2 cores the forward took
 * 17–23 ms here, against 6.9 s by FFT (measured; the package README has the table).
 */
import { tf } from '@posenc/core';
import { prefixSums } from './prefix-sums.js';

/** Consecutive integer positions shared by every batch row. */
export interface ConsecutiveLayout {
  /** Position of the first query and of the first key. */
  readonly queryStart: number;
  readonly keyStart: number;
  readonly queries: number;
  readonly keys: number;
}

/**
 * The layout when every row's queries and keys are consecutive integers, the same in every row;
 * otherwise the reason it is not, for an error message when the band path is asked for.
 */
export function consecutiveLayout(
  keys: readonly Int32Array[],
  queries: readonly Int32Array[],
): ConsecutiveLayout | string {
  const run = (p: Int32Array, what: string, r: number): string | undefined => {
    for (let i = 1; i < p.length; i++)
      if (p[i] !== p[0]! + i)
        return `${what} positions of row ${r} are not consecutive (${p[i - 1]} then ${p[i]} at ${i})`;
    return undefined;
  };
  for (let r = 0; r < keys.length; r++) {
    const why = run(keys[r]!, 'key', r) ?? run(queries[r]!, 'query', r);
    if (why) return why;
    if (keys[r]![0] !== keys[0]![0] || queries[r]![0] !== queries[0]![0])
      return `rows 0 and ${r} start at different positions (keys ${keys[0]![0]} and ${keys[r]![0]}, queries ${queries[0]![0]} and ${queries[r]![0]})`;
  }
  return {
    queryStart: queries[0]![0]!,
    keyStart: keys[0]![0]!,
    queries: queries[0]!.length,
    keys: keys[0]!.length,
  };
}

/**
 * How one call is cut into blocks. The block length T is the power of two ≥ R (so that the window
 * is three blocks, w = 1), ≥ 64 unless the grid is short (then about an eighth of it, so that
 * short sequences still span several blocks), at most 256, and never longer than needed to
 * hold the whole grid (a 26-token ListOps row is one block of 32 with no neighbours):
 * - smaller blocks bring the window towards 2R + T but multiply the copies of K and V the windows
 *   hold and shrink the products: at N = 8k, R = 128 a forward took 38–67 ms with T = 32,
 *   34–57 ms with T = 64 and 20–47 ms with T = 128 (10 runs each, measured);
 * - the far part moves N/T block sums of m·Dv: at R = 16 with T = 16 they took two thirds of a
 *   24–34 ms forward (measured).
 */
export interface BandPlan {
  readonly reach: number;
  /** Block length T, window blocks on each side w, window length W = (2w + 1)·T. */
  readonly block: number;
  readonly side: number;
  readonly width: number;
  /** Blocks of the grid, which starts at the first query or key. */
  readonly blocks: number;
  /** Grid slots of the first query and the first key. */
  readonly queryAt: number;
  readonly keyAt: number;
}

export function bandPlan(layout: ConsecutiveLayout, reach: number): BandPlan {
  const origin = Math.min(layout.queryStart, layout.keyStart);
  const end = Math.max(layout.queryStart + layout.queries, layout.keyStart + layout.keys);
  const span = end - origin;
  const minimum = Math.min(64, span / 8);
  let block = 4;
  while ((block < reach || block < minimum) && block < 256 && block < span) block *= 2;
  const blocks = Math.ceil(span / block);
  // A window never reaches past the grid: with nb − 1 blocks on each side it holds every key.
  const side = Math.min(Math.ceil(reach / block), blocks - 1);
  return {
    reach,
    block,
    side,
    width: (2 * side + 1) * block,
    blocks,
    queryAt: layout.queryStart - origin,
    keyAt: layout.keyStart - origin,
  };
}

/** Multiply-adds of the band path per head: the windows' two products and the far sums. */
export function bandCost(
  plan: BandPlan,
  m: number,
  dv: number,
  separateNormaliser: boolean,
): number {
  const grid = plan.blocks * plan.block;
  const near = grid * plan.width * (m + dv + (separateNormaliser ? m : 0));
  const far = 2 * grid * m * dv;
  return near + far;
}

export interface BandWeights {
  /** exp(b) at the window's offsets, `[H, T, W]`: τ = (j − w·T) − i for query i, key j. */
  readonly window: tf.Tensor3D;
  /** The weight of every key farther than R before the query, and after it, `[H]`. */
  readonly before: tf.Tensor1D;
  readonly after: tf.Tensor1D;
}

/** The offsets of the window matrix, row-major `[T, W]`, for the caller to turn into weights. */
export function windowOffsets(plan: BandPlan): Int32Array {
  const { block, width, side } = plan;
  const offsets = new Int32Array(block * width);
  for (let i = 0; i < block; i++)
    for (let j = 0; j < width; j++) offsets[i * width + j] = j - side * block - i;
  return offsets;
}

/**
 * The constant index arrays of a grid of nb blocks of T with windows of 2w + 1 blocks,
 * kept for the last few shapes: building them is a few ms of JavaScript per call at N = 8k, a
 * tenth of the pass (measured), and a model calls with the same shape in every layer and step.
 */
const gridCache = new Map<string, { window: Int32Array; before: Int32Array; after: Int32Array }>();

function gridIndices(nb: number, t: number, w: number) {
  const key = `${nb},${t},${w}`;
  let entry = gridCache.get(key);
  if (!entry) {
    const width = (2 * w + 1) * t;
    entry = {
      window: Int32Array.from(
        { length: nb * width },
        (_, i) => Math.floor(i / width) * t + (i % width),
      ),
      // Into [0, P…]: P[b − w − 1] is entry b − w, and 0 (entry 0) before the first block.
      before: Int32Array.from({ length: nb }, (_, i) => Math.max(i - w, 0)),
      after: Int32Array.from({ length: nb }, (_, i) => Math.min(i + w, nb - 1)),
    };
    if (gridCache.size >= 8) gridCache.delete(gridCache.keys().next().value!);
    gridCache.set(key, entry);
  }
  return entry;
}

/** Rows `[lo, lo + n)` of axis 2 of a `[B, H, G, C]` grid tensor, zero outside `[0, G)`. */
function placeOnGrid(x: tf.Tensor4D, start: number, grid: number): tf.Tensor4D {
  const n = x.shape[2];
  if (start === 0 && n === grid) return x;
  return tf.pad(x, [
    [0, 0],
    [0, 0],
    [start, grid - start - n],
    [0, 0],
  ]) as tf.Tensor4D;
}

/**
 * numerator `[B, H, Nq, Dv]` and normaliser `[B, H, Nq, 1]` of kernelized attention weighted by
 * C_ij = c(p_j − p_i), for consecutive positions and weights constant past `reach`.
 */
export function bandedToeplitzAttention(
  features: {
    numeratorQ: tf.Tensor4D;
    numeratorK: tf.Tensor4D;
    denominatorQ: tf.Tensor4D;
    denominatorK: tf.Tensor4D;
  },
  v: tf.Tensor4D,
  plan: BandPlan,
  weights: BandWeights,
  causal: boolean,
): { numerator: tf.Tensor4D; denominator: tf.Tensor4D } {
  return tf.tidy(() => {
    const [b, h, nq] = features.numeratorQ.shape;
    const dv = v.shape[3];
    const md = features.denominatorQ.shape[3];
    // One grid for queries and keys, from the first position of either, in whole blocks.
    const { block: t, side: w, width, blocks: nb, queryAt: qAt, keyAt: kAt } = plan;
    const grid = nb * t;
    // Every op below is of rank ≤ 4: the wasm backend's slice of rank 5 runs element by
    // element in JavaScript (about 1 s for a [1, 2, 132, 64, 64] window, measured).
    const bh = b * h;
    /** `[B·H·nb, T, C]`: the grid's blocks. */
    const blocksOf = (x: tf.Tensor4D, at: number) =>
      placeOnGrid(x, at, grid).reshape([bh * nb, t, x.shape[3]]) as tf.Tensor3D;
    /** The 2w + 1 blocks around each block, `[B·H·nb, W, C]`, zero past the ends. */
    const windowIndex = tf.tensor1d(gridIndices(nb, t, w).window, 'int32');
    const windows = (x: tf.Tensor4D, at: number) => {
      const c = x.shape[3];
      const padded = placeOnGrid(x, at + w * t, grid + 2 * w * t).reshape([
        bh,
        grid + 2 * w * t,
        c,
      ]);
      // One gather (a wasm loop, its gradient a scatter-add) rather than 2w + 1 strided slices,
      // which this backend copies element by element (13 ms each for [2, 8448, 64], measured).
      return tf.gather(padded, windowIndex, 1).reshape([bh * nb, width, c]) as tf.Tensor3D;
    };

    const qn = blocksOf(features.numeratorQ, qAt);
    const kn = blocksOf(features.numeratorK, kAt);
    const vb = blocksOf(v, kAt);
    const shared =
      features.denominatorQ === features.numeratorQ &&
      features.denominatorK === features.numeratorK;
    const qd = shared ? qn : blocksOf(features.denominatorQ, qAt);
    const kd = shared ? kn : blocksOf(features.denominatorK, kAt);

    // Near: the window's keys with their exact weights. In a tidy of its own, so that the
    // windows and the [T, W] weights of every block (25 MB each at N = 8k) are gone before the
    // far part allocates (under a gradient tape TF.js keeps what the backward needs anyway).
    const cWindow = weights.window.reshape([1, h, 1, t * width]);
    const [nearNum, nearDen] = tf.tidy(() => {
      const weighted = (q: tf.Tensor3D, k: tf.Tensor4D) =>
        tf
          .mul(tf.matMul(q, windows(k, kAt), false, true).reshape([b, h, nb, t * width]), cWindow)
          .reshape([bh * nb, t, width]) as tf.Tensor3D;
      const aNum = weighted(qn, features.numeratorK);
      const aDen = shared ? aNum : weighted(qd, features.denominatorK);
      return [tf.matMul(aNum, windows(v, kAt)), tf.sum(aDen, 2, true)]; // [B·H·nb, T, Dv | 1]
    });

    // Far: c_lo times the sums of the blocks before the window, c_hi times those after, read
    // from prefix sums of the block sums: before b it is P[b − w − 1], after it P[last] − P[b + w].
    const cBefore = weights.before.reshape([1, h, 1]);
    const cAfter = weights.after.reshape([1, h, 1]);
    const { before: beforeIndex, after: afterIndex } = gridIndices(nb, t, w);
    const farSums = (blockSums: tf.Tensor3D) => {
      // blockSums [B·H, nb, C] → c_lo·Σ_{blocks < b − w} + c_hi·Σ_{blocks > b + w}, [B, H, nb·C].
      const c = blockSums.shape[2];
      const p = prefixSums(blockSums); // row L − 1 ≥ nb − 1 is the total
      const withZero = tf.concat([tf.zeros([bh, 1, c]), p], 1); // [i + 1] = P[i]
      const before = tf.gather(withZero, tf.tensor1d(beforeIndex, 'int32'), 1);
      const far = tf.mul(before.reshape([b, h, nb * c]), cBefore);
      if (causal) return far;
      const total = tf.gather(p, tf.tensor1d([p.shape[1] - 1], 'int32'), 1);
      const after = tf.sub(total, tf.gather(p, tf.tensor1d(afterIndex, 'int32'), 1));
      return tf.add(far, tf.mul(after.reshape([b, h, nb * c]), cAfter));
    };
    const m = features.numeratorQ.shape[3];
    const kvSums = tf
      .matMul(kn, vb, true, false) // [B·H·nb, m, Dv]
      .reshape([bh, nb, m * dv]) as tf.Tensor3D;
    const farKv = farSums(kvSums).reshape([bh * nb, m, dv]);
    const farNum = tf.matMul(qn, farKv); // [B·H·nb, T, Dv]
    const kSums = tf.sum(kd, 1).reshape([bh, nb, md]) as tf.Tensor3D;
    const farK = farSums(kSums).reshape([bh * nb, 1, md]);
    const farDen = tf.sum(tf.mul(qd, farK), 2, true);

    const onQueries = (x: tf.Tensor, c: number) => {
      const all = x.reshape([b, h, grid, c]) as tf.Tensor4D;
      return qAt === 0 && nq === grid
        ? all
        : (tf.slice(all, [0, 0, qAt, 0], [b, h, nq, c]) as tf.Tensor4D);
    };
    return {
      numerator: onQueries(tf.add(nearNum, farNum), dv),
      denominator: onQueries(tf.add(nearDen, farDen), 1),
    };
  });
}
