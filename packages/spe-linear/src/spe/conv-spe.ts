/**
 * convSPE (Liutkus et al. 2021, `ConvSPE` of aliutkus/spe): white noise z ~ N(0, 1) per
 * realisation and (head, dim) channel, filtered by two learnable depthwise FIR filters of L taps
 * (L×L on a grid), one per side, with no padding; the official code draws noise N + 4L long,
 * convolves it ("valid") and keeps outputs L … L + N − 1, so position n's code reads noise
 * indices n + L … n + 2L − 1. E[q̄(m)·k̄(n)] is the cross-correlation of the two filters at m − n:
 * a learnable relative kernel that vanishes beyond L − 1.
 *
 * The official `forward` names them the other way round (kbar = conv_q(z), qbar = conv_k(z));
 * here `filterQ` is the filter that makes q̄ (the official `conv_k`).
 */
import { tf } from '@posenc/core';
import type { SpeNoiseSource } from '../noise/spe-noise.js';

export interface ConvSpeParameters {
  /** `[H·D, L]` (1D) or `[H·D, L, L]` (2D): the filter that makes q̄. */
  readonly filterQ: tf.Tensor;
  /** The filter that makes k̄. */
  readonly filterK: tf.Tensor;
}

/** The official initialisation: U[0, 1) / √(L^ndim / 2). */
export function initialConvFilter(
  channels: number,
  kernelSize: number,
  ndim: 1 | 2,
  uniform: () => number,
): Float32Array {
  const taps = kernelSize ** ndim;
  const scale = 1 / Math.sqrt(taps / 2);
  return Float32Array.from({ length: channels * taps }, () => uniform() * scale);
}

/** The code at every position of a window: `[span, H, D, R]` per side (1D), or `[rows, cols, H, D, R]` (2D). */
export interface ConvCodes {
  readonly q: tf.Tensor;
  readonly k: tf.Tensor;
}

/**
 * One side's codes at positions `lo … lo + span − 1` from the noise at indices
 * `lo + L … lo + span + 2L − 2`, `[span, H, D, R]`. `noise` is `[R, H·D, span + L − 1]`.
 */
export function convCodeOf(
  filter: tf.Tensor,
  noise: tf.Tensor3D,
  heads: number,
  dim: number,
): tf.Tensor4D {
  const [realizations, channels, width] = noise.shape;
  const taps = filter.shape[1]!;
  const span = width - taps + 1;
  return tf.tidy(() => {
    // depthwiseConv2d is cross-correlation like PyTorch's conv: NHWC input [R, 1, W, C], filter [1, L, C, 1].
    const input = noise
      .transpose([0, 2, 1])
      .reshape([realizations, 1, width, channels]) as tf.Tensor4D;
    const kernel = filter.transpose([1, 0]).reshape([1, taps, channels, 1]) as tf.Tensor4D;
    const out = tf.depthwiseConv2d(input, kernel, 1, 'valid'); // [R, 1, span, C]
    return tf.mul(
      out.reshape([realizations, span, heads, dim]).transpose([1, 2, 3, 0]),
      (realizations * dim) ** -0.25,
    ) as tf.Tensor4D;
  });
}

/** Both sides' codes over a window (see `convCodeOf`). */
export function convCodes1d(
  params: ConvSpeParameters,
  noise: tf.Tensor3D,
  heads: number,
  dim: number,
): ConvCodes {
  return {
    q: convCodeOf(params.filterQ, noise, heads, dim),
    k: convCodeOf(params.filterK, noise, heads, dim),
  };
}

/** Code elements `[P, chunk, H, D, R]` a chunk of the 1D filter may hold at once (2²¹ floats: 8 MiB). */
export const CONV_CHUNK_ELEMENTS = 2 ** 21;

/**
 * Positions per chunk: the largest power of two within the budget, and at least 4·L so that the
 * noise each chunk reads beyond its own positions (L − 1 more indices) stays a small overhead.
 */
export function convChunkLength(
  rows: number,
  heads: number,
  dim: number,
  realizations: number,
  taps: number,
): number {
  const fit = CONV_CHUNK_ELEMENTS / (rows * heads * dim * realizations);
  let length = 1;
  while (length * 2 <= fit) length *= 2;
  return Math.max(length, 4 * taps);
}

/** One side of a 1D convSPE filter: its input `[B, H, N, D]` and the filter that makes its code. */
export interface ConvSide {
  readonly x: tf.Tensor4D;
  readonly filter: tf.Tensor;
}

/**
 * Filters each side's x `[B, H, N, D]` at the 1D integer positions `values` (rows `[P, N]`, P = 1
 * or B) with its convSPE code, made chunk by chunk of positions from the noise window the chunk
 * reads (`noise(lo, hi)`: the window of positions lo … hi, see `convNoise1d`), so that the whole
 * [N, H, D, R] code never exists; the sides share each chunk's noise. Returns `[B, H, N, R]` per side.
 */
export function filterConv1dByChunks(
  sides: readonly ConvSide[],
  values: Float32Array,
  rows: number,
  noise: (lo: number, hi: number) => tf.Tensor3D,
  chunk: number,
  filterChunk: (x: tf.Tensor4D, code: tf.Tensor5D) => tf.Tensor4D,
): tf.Tensor4D[] {
  const [, heads, n, dim] = sides[0]!.x.shape;
  const sizes = Array.from({ length: Math.ceil(n / chunk) }, (_, c) =>
    Math.min(chunk, n - c * chunk),
  );
  // Split once: a slice per chunk would read the whole input on some engines.
  const inputs = sides.map((side) =>
    sizes.length === 1 ? [side.x] : (tf.split(side.x, sizes, 2) as tf.Tensor4D[]),
  );
  const pieces: tf.Tensor4D[][] = sides.map(() => []);
  for (let c = 0, start = 0; c < sizes.length; start += sizes[c]!, c++) {
    const size = sizes[c]!;
    let lo = Infinity;
    let hi = -Infinity;
    for (let p = 0; p < rows; p++)
      for (let i = start; i < start + size; i++) {
        lo = Math.min(lo, values[p * n + i]!);
        hi = Math.max(hi, values[p * n + i]!);
      }
    const window = noise(lo, hi);
    const index = Int32Array.from({ length: rows * size }, (_, j) => {
      const [p, i] = [Math.floor(j / size), start + (j % size)];
      return values[p * n + i]! - lo;
    });
    sides.forEach((side, s) =>
      pieces[s]!.push(
        tf.tidy(() => {
          const codes = convCodeOf(side.filter, window, heads, dim); // [span, H, D, R]
          const r = codes.shape[3];
          const code = tf
            .gather(codes, tf.tensor1d(index, 'int32'))
            .reshape([rows, size, heads, dim, r]) as tf.Tensor5D;
          return filterChunk(inputs[s]![c]!, code);
        }),
      ),
    );
    window.dispose();
  }
  if (sizes.length > 1) tf.dispose(inputs.flat());
  return pieces.map((p) => {
    if (p.length === 1) return p[0]!;
    const joined = tf.concat(p, 2) as tf.Tensor4D;
    tf.dispose(p);
    return joined;
  });
}

/** 2D: codes over a rows × cols window from noise `[R, H·D, rows + L − 1, cols + L − 1]`. */
export function convCodes2d(
  params: ConvSpeParameters,
  noise: tf.Tensor4D,
  heads: number,
  dim: number,
): ConvCodes {
  const [realizations, channels, height, width] = noise.shape;
  const taps = params.filterQ.shape[1]!;
  const [rows, cols] = [height - taps + 1, width - taps + 1];
  return tf.tidy(() => {
    const input = noise.transpose([0, 2, 3, 1]) as tf.Tensor4D; // [R, H', W', C]
    const run = (filter: tf.Tensor) => {
      const kernel = filter.transpose([1, 2, 0]).reshape([taps, taps, channels, 1]) as tf.Tensor4D;
      const out = tf.depthwiseConv2d(input, kernel, 1, 'valid'); // [R, rows, cols, C]
      return tf.mul(
        out.reshape([realizations, rows, cols, heads, dim]).transpose([1, 2, 3, 4, 0]),
        (realizations * dim) ** -0.25,
      );
    };
    return {
      q: run(params.filterQ),
      k: run(params.filterK),
    } as unknown as tf.TensorContainerObject;
  }) as unknown as ConvCodes;
}

/** The noise window the 1D codes at positions `lo … hi` need (from `source`). */
export function convNoise1d(
  source: SpeNoiseSource,
  realizations: number,
  channels: number,
  taps: number,
  lo: number,
  hi: number,
): tf.Tensor3D {
  return source.conv(realizations, channels, lo + taps, hi - lo + taps);
}
