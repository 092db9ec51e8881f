/**
 * sineSPE (Liutkus et al. 2021, `SineSPE` of aliutkus/spe): per head h and key dimension d, K
 * sinusoids with learnable frequency f = sigmoid(freqs)/2 ∈ [0, ½] cycles per position, offset θ
 * (on the query side only) and gain λ = softplus(gains). With Ω_q(n) = [cos(2πf n + θ),
 * sin(2πf n + θ)]ₖ and Ω_k(n) = [cos 2πf n, sin 2πf n]ₖ (interleaved, 2K columns) and one draw
 * z ~ N(0, 1) of shape [H, D, 2K, R] shared by both sides,
 *   q̄(n) = Ω_q(n) · (λ z / √(2K)) / (R·D)^¼,   k̄(n) = Ω_k(n) · (λ z / √(2K)) / (R·D)^¼,
 * whose cross-covariance per (h, d) is P_d(m − n) = (1/2K) Σₖ λₖ² cos(2πfₖ(m − n) + θₖ) / √(R·D).
 *
 * The code is kept factored — Ω at the positions and the weights W = λz/√(2K)/(RD)^¼ — so that
 * filtering forms the [N, H, D, R] code only a block of positions at a time (see `filter.ts`).
 * Positions are the caller's ids, fractional ones included: Ω is evaluated there.
 */
import { tf } from '@posenc/core';

export interface SineSpeParameters {
  /** `[H, D, K]` pre-sigmoid frequencies. */
  readonly freqs: tf.Tensor3D;
  /** `[H, D, K]` query-side phase offsets θ. */
  readonly offsets: tf.Tensor3D;
  /** `[H, D, K]` pre-softplus gains. */
  readonly gains: tf.Tensor3D;
}

/** The official initialisation: freqs ~ N(0,1) − 4 (low frequencies), offsets ~ N(0,1), gains ~ N(0,1) / (√‖g‖ₖ / 2). */
export function initialSineParameters(
  heads: number,
  dim: number,
  sines: number,
  normal: () => number,
): { freqs: Float32Array; offsets: Float32Array; gains: Float32Array } {
  const size = heads * dim * sines;
  const draw = () => Float32Array.from({ length: size }, normal);
  const freqs = draw().map((v) => v - 4);
  const offsets = draw();
  const gains = draw();
  for (let row = 0; row < heads * dim; row++) {
    let norm = 0;
    for (let k = 0; k < sines; k++) norm += gains[row * sines + k]! ** 2;
    const scale = Math.sqrt(Math.sqrt(norm)) / 2;
    for (let k = 0; k < sines; k++) gains[row * sines + k]! /= scale;
  }
  return { freqs, offsets, gains };
}

/**
 * The factored code at positions `ids` `[P, N]`: Ω per side in blocks of positions, each
 * `[P, H·D, block, 2K]`, and W `[H·D, 2K, R]`. The 2K columns are the K cosines then the K sines
 * (the official code interleaves them; z's columns are reordered to match: the same code).
 */
export interface SineFactors {
  readonly omegaQ: tf.Tensor4D[];
  readonly omegaK: tf.Tensor4D[];
  readonly weights: tf.Tensor3D;
}

/** Positions per block of Ω: bounds what filtering holds at once (see `filterWithSineFactors`). */
export const SINE_BLOCK = 1024;

/**
 * Ω for query positions `queryIds` `[Pq, Nq]` and key positions `keyIds` `[Pk, Nk]`, and the
 * weights from the raw draw `z` `[H, D, 2K, R]` (columns interleaved as the official draw).
 */
export function sineFactors(
  params: SineSpeParameters,
  queryIds: tf.Tensor2D,
  keyIds: tf.Tensor2D,
  z: tf.Tensor4D,
  block = SINE_BLOCK,
): SineFactors {
  return tf.tidy(() => {
    const [heads, dim, sines] = params.freqs.shape;
    const channels = heads * dim;
    const realizations = z.shape[3];
    // [H, D, K] → [1, H·D, 1, K] against positions [P, 1, N, 1].
    const angular = tf.mul(tf.sigmoid(params.freqs), Math.PI).reshape([1, channels, 1, sines]);
    const offsets = params.offsets.reshape([1, channels, 1, sines]);
    const phases = (ids: tf.Tensor2D) =>
      tf.mul(angular, ids.reshape([ids.shape[0], 1, ids.shape[1], 1]));
    const omega = (phase: tf.Tensor) => tf.concat([tf.cos(phase), tf.sin(phase)], 3) as tf.Tensor4D;
    const blocks = (ids: tf.Tensor2D, offset?: tf.Tensor) => {
      const [p, n] = ids.shape;
      const out: tf.Tensor4D[] = [];
      for (let start = 0; start < n; start += block) {
        const part = ids.slice([0, start], [p, Math.min(block, n - start)]);
        out.push(omega(offset ? tf.add(phases(part), offset) : phases(part)));
      }
      return out;
    };
    const omegaQ = blocks(queryIds, offsets);
    const omegaK = blocks(keyIds);
    // z's interleaved columns (cos₁, sin₁, cos₂, …) in the order cos₁…cos_K, sin₁…sin_K.
    const order = tf.tensor1d(
      Int32Array.from({ length: 2 * sines }, (_, j) => (j < sines ? 2 * j : 2 * (j - sines) + 1)),
      'int32',
    );
    const gains = tf.softplus(params.gains).reshape([channels, sines, 1]);
    const scale = 1 / Math.sqrt(2 * sines) / (realizations * dim) ** 0.25;
    const weights = tf.mul(
      tf.gather(z.reshape([channels, 2 * sines, realizations]), order, 1),
      tf.mul(tf.concat([gains, gains], 1), scale),
    ) as tf.Tensor3D;
    return { omegaQ, omegaK, weights } as unknown as tf.TensorContainerObject;
  }) as unknown as SineFactors;
}

/** The code `[P, N, H, D, R]` of one block of Ω (official layout `(1, N, H, D, R)` per position row). */
export function sineCodeOf(omega: tf.Tensor4D, weights: tf.Tensor3D, heads: number): tf.Tensor5D {
  return tf.tidy(() => {
    const [p, channels, n] = omega.shape;
    const r = weights.shape[2];
    const dim = channels / heads;
    return tf
      .matMul(omega, weights.expandDims(0) as tf.Tensor4D)
      .reshape([p, heads, dim, n, r])
      .transpose([0, 3, 1, 2, 4]) as tf.Tensor5D;
  });
}

/**
 * E[q̄(m)·k̄(n)] per (h, d): the positional kernel the code's draws estimate, `[H, D, Nq, Nk]`
 * for 1D query and key positions (the official `get_posattn_matrix`, divided by √(R·D) as the
 * scaled code is).
 */
export function sineKernel(
  params: SineSpeParameters,
  queryIds: readonly number[],
  keyIds: readonly number[],
  realizations: number,
): Float64Array {
  const [heads, dim, sines] = params.freqs.shape;
  const f = params.freqs.dataSync();
  const theta = params.offsets.dataSync();
  const g = params.gains.dataSync();
  const out = new Float64Array(heads * dim * queryIds.length * keyIds.length);
  const softplus = (x: number) => Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0);
  const norm = 1 / (2 * sines) / Math.sqrt(realizations * dim);
  let o = 0;
  for (let hd = 0; hd < heads * dim; hd++)
    for (const m of queryIds)
      for (const n of keyIds) {
        let sum = 0;
        for (let k = 0; k < sines; k++) {
          const i = hd * sines + k;
          const freq = 1 / (1 + Math.exp(-f[i]!)) / 2;
          sum += softplus(g[i]!) ** 2 * Math.cos(2 * Math.PI * freq * (m - n) + theta[i]!);
        }
        out[o++] = sum * norm;
      }
  return out;
}
