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
 * filtering never forms the [N, H, D, R] code (see `filter.ts`); `sineCodes` forms it for tests.
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

/** The factored code at positions `ids` `[P, N]`: Ω `[P, H, N, D, 2K]` per side and W `[H, D, 2K, R]`. */
export interface SineFactors {
  readonly omegaQ: tf.Tensor5D;
  readonly omegaK: tf.Tensor5D;
  readonly weights: tf.Tensor4D;
}

/** [cos φ₁, sin φ₁, cos φ₂, …] along a new last axis of 2K, for phases `[…, K]`. */
function interleavedCosSin(phases: tf.Tensor): tf.Tensor {
  const shape = phases.shape;
  const k = shape[shape.length - 1]!;
  return tf
    .stack([tf.cos(phases), tf.sin(phases)], shape.length)
    .reshape([...shape.slice(0, -1), 2 * k]);
}

/**
 * Ω for query positions `queryIds` `[Pq, Nq]` and key positions `keyIds` `[Pk, Nk]`, and the
 * weights from the raw draw `z` `[H, D, 2K, R]`.
 */
export function sineFactors(
  params: SineSpeParameters,
  queryIds: tf.Tensor2D,
  keyIds: tf.Tensor2D,
  z: tf.Tensor4D,
): SineFactors {
  return tf.tidy(() => {
    const [heads, dim, sines] = params.freqs.shape;
    const realizations = z.shape[3];
    // [H, D, K] → [1, H, 1, D, K] against positions [P, 1, N, 1, 1].
    const freqs = tf.div(tf.sigmoid(params.freqs), 2).reshape([1, heads, 1, dim, sines]);
    const offsets = params.offsets.reshape([1, heads, 1, dim, sines]);
    const angular = (ids: tf.Tensor2D) =>
      tf.mul(tf.mul(freqs, 2 * Math.PI), ids.reshape([ids.shape[0], 1, ids.shape[1], 1, 1]));
    const omegaQ = interleavedCosSin(tf.add(angular(queryIds), offsets)) as tf.Tensor5D;
    const omegaK = interleavedCosSin(angular(keyIds)) as tf.Tensor5D;
    const gains = tf.softplus(params.gains);
    // Each gain serves the cos and the sin of its pair: [H, D, K] → [H, D, 2K].
    const paired = tf.stack([gains, gains], 3).reshape([heads, dim, 2 * sines, 1]);
    const scale = 1 / Math.sqrt(2 * sines) / (realizations * dim) ** 0.25;
    const weights = tf.mul(tf.mul(z, paired), scale) as tf.Tensor4D;
    return { omegaQ, omegaK, weights } as unknown as tf.TensorContainerObject;
  }) as unknown as SineFactors;
}

/** The code itself, `[P, N, H, D, R]` (official layout `(1, N, H, D, R)` per position row). */
export function sineCodeOf(omega: tf.Tensor5D, weights: tf.Tensor4D): tf.Tensor5D {
  return tf.tidy(() => {
    const [p, h, n, d, columns] = omega.shape;
    const r = weights.shape[3];
    const rows = omega.transpose([1, 3, 0, 2, 4]).reshape([h, d, p * n, columns]);
    return tf
      .matMul(rows as tf.Tensor4D, weights)
      .reshape([h, d, p, n, r])
      .transpose([2, 3, 0, 1, 4]) as tf.Tensor5D;
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
