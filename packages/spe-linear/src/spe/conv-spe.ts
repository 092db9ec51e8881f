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
 * Codes at positions `lo … lo + span − 1` from the noise at indices `lo + L … lo + span + 2L − 2`.
 * `noise` is `[R, H·D, span + L − 1]`.
 */
export function convCodes1d(
  params: ConvSpeParameters,
  noise: tf.Tensor3D,
  heads: number,
  dim: number,
): ConvCodes {
  const [realizations, channels, width] = noise.shape;
  const taps = params.filterQ.shape[1]!;
  const span = width - taps + 1;
  return tf.tidy(() => {
    // depthwiseConv2d is cross-correlation like PyTorch's conv: NHWC input [R, 1, W, C], filter [1, L, C, 1].
    const input = noise
      .transpose([0, 2, 1])
      .reshape([realizations, 1, width, channels]) as tf.Tensor4D;
    const run = (filter: tf.Tensor) => {
      const kernel = filter.transpose([1, 0]).reshape([1, taps, channels, 1]) as tf.Tensor4D;
      const out = tf.depthwiseConv2d(input, kernel, 1, 'valid'); // [R, 1, span, C]
      return tf.mul(
        out.reshape([realizations, span, heads, dim]).transpose([1, 2, 3, 0]),
        (realizations * dim) ** -0.25,
      );
    };
    return {
      q: run(params.filterQ),
      k: run(params.filterK),
    } as unknown as tf.TensorContainerObject;
  }) as unknown as ConvCodes;
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
