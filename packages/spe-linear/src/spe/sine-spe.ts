/**
 * sineSPE (Liutkus et al. 2021, `SineSPE` of aliutkus/spe): per head h and key dimension d, K
 * sinusoids with learnable frequency f = sigmoid(freqs)/2 ∈ [0, ½] cycles per position, offset θ
 * (on the query side only) and gain λ = softplus(gains). With Ω_q(n) = [cos(2πf n + θ),
 * sin(2πf n + θ)]ₖ and Ω_k(n) = [cos 2πf n, sin 2πf n]ₖ (interleaved, 2K columns) and one draw
 * z ~ N(0, 1) of shape [H, D, 2K, R] shared by both sides,
 *   q̄(n) = Ω_q(n) · (λ z / √(2K)) / (R·D)^¼,   k̄(n) = Ω_k(n) · (λ z / √(2K)) / (R·D)^¼,
 * whose cross-covariance per (h, d) is P_d(m − n) = (1/2K) Σₖ λₖ² cos(2πfₖ(m − n) + θₖ) / √(R·D).
 *
 * The code is never formed (see `filter.ts`): q̂(n) = Σ_d q_d(n)·q̄_d(n) = Σ_{d,k′} (q_d(n)·Ω_k(n)_{dk′})·
 * W_q[d, k′] is one matrix product of the per-position features q ⊙ Ω [N, D·2K] with weights
 * [D·2K, R] per head. The query offset θ is a rotation of each (cos, sin) pair, so it moves into
 * the weights and both sides read the same Ω; so does the start s of a chunk of positions
 * (Ω(s + δ) is Ω(δ) rotated by 2πf·s), so Ω is evaluated at the offsets within one chunk and
 * reused by every chunk whose offsets are the same (evenly spaced positions), and the trig cost
 * is that of one chunk instead of N positions. Positions are the caller's ids, fractional ones
 * included.
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

/** The angular frequencies 2πf = π·sigmoid(freqs), `[H, K, D]` (the layout of the weights). */
function angularFrequencies(params: SineSpeParameters): tf.Tensor3D {
  return tf.tidy(() => tf.mul(tf.sigmoid(params.freqs), Math.PI).transpose([0, 2, 1]));
}

/**
 * W = λz/√(2K)/(R·D)^¼ `[H, 2K, D, R]` from the raw draw z `[H, D, 2K, R]` (columns interleaved
 * cos₁, sin₁, cos₂, … as the official draw): the K cosine rows first, then the K sine rows.
 */
export function sineWeights(params: SineSpeParameters, z: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [heads, dim, sines] = params.freqs.shape;
    const realizations = z.shape[3];
    const order = tf.tensor1d(
      Int32Array.from({ length: 2 * sines }, (_, j) => (j < sines ? 2 * j : 2 * (j - sines) + 1)),
      'int32',
    );
    const gains = tf.softplus(params.gains).transpose([0, 2, 1]).reshape([heads, sines, dim, 1]);
    const scale = 1 / Math.sqrt(2 * sines) / (realizations * dim) ** 0.25;
    const raw = tf.gather(z, order, 2).transpose([0, 2, 1, 3]); // [H, 2K, D, R]
    return tf.mul(raw, tf.mul(tf.concat([gains, gains], 1), scale)) as tf.Tensor4D;
  });
}

/** F elements `[H, B, chunk, 2K, D]` a chunk of the filter may hold at once (2²¹ floats: 8 MiB). */
export const SINE_CHUNK_ELEMENTS = 2 ** 21;

/** Positions per chunk: the largest power of two within the budget, at least 64. */
export function sineChunkLength(heads: number, batch: number, sines: number, dim: number): number {
  const fit = SINE_CHUNK_ELEMENTS / (heads * batch * 2 * sines * dim);
  let length = 64;
  while (length * 2 <= fit) length *= 2;
  return length;
}

/**
 * One side's positions `[P, N]` cut into chunks for the filter: chunk c of row p starts at
 * position s = ids[p, c·chunk], and Ω is evaluated at the offsets ids − s, `[H, P′, len, 2K, D]`
 * (P′ = 1 when every row has the same offsets). `omega` holds one tensor when every chunk has the
 * offsets of the first (evenly spaced positions; a shorter last chunk reads its first rows), else
 * one per chunk. `phases` `[H, P, chunks, K, D]` is 2πf·s, the rotation that chunk's weights take.
 */
export interface SineChunks {
  readonly rows: number;
  readonly length: number;
  readonly chunk: number;
  readonly omega: tf.Tensor5D[];
  readonly phases: tf.Tensor5D;
}

/** The chunks of positions `ids` (`values`, the same ids as numbers) `[P, N]`. */
export function sineChunks(
  params: SineSpeParameters,
  ids: tf.Tensor2D,
  values: ArrayLike<number>,
  chunk: number,
): SineChunks {
  const [rows, length] = ids.shape;
  const count = Math.ceil(length / chunk);
  const starts = new Float32Array(rows * count);
  for (let p = 0; p < rows; p++)
    for (let c = 0; c < count; c++) starts[p * count + c] = values[p * length + c * chunk]!;
  const offsetsOf = (p: number, c: number) => {
    const size = Math.min(chunk, length - c * chunk);
    return Float32Array.from({ length: size }, (_, i) => {
      const at = p * length + c * chunk + i;
      return values[at]! - starts[p * count + c]!;
    });
  };
  const same = (a: Float32Array, b: Float32Array) => a.every((v, i) => v === b[i]);
  const reference = offsetsOf(0, 0);
  // rowsAlike: in every chunk, every row has row 0's offsets; chunksAlike: and those of chunk 0.
  let rowsAlike = true;
  let chunksAlike = true;
  for (let c = 0; c < count; c++) {
    const first = offsetsOf(0, c);
    if (!same(first, reference)) chunksAlike = false;
    for (let p = 1; p < rows; p++) if (!same(offsetsOf(p, c), first)) rowsAlike = false;
  }
  chunksAlike &&= rowsAlike;
  return tf.tidy(() => {
    const [heads, dim, sines] = params.freqs.shape;
    const angular = angularFrequencies(params).reshape([heads, 1, 1, sines, dim]);
    const omegaAt = (offsets: Float32Array, p: number) => {
      const phase = tf.mul(angular, tf.tensor(offsets, [1, p, offsets.length / p, 1, 1]));
      return tf.concat([tf.cos(phase), tf.sin(phase)], 3) as tf.Tensor5D;
    };
    const omega: tf.Tensor5D[] = [];
    if (chunksAlike) omega.push(omegaAt(reference, 1));
    else
      for (let c = 0; c < count; c++) {
        const parts = Array.from({ length: rowsAlike ? 1 : rows }, (_, p) => offsetsOf(p, c));
        const flat = new Float32Array(parts.reduce((n, o) => n + o.length, 0));
        parts.forEach((o, p) => flat.set(o, p * o.length));
        omega.push(omegaAt(flat, parts.length));
      }
    const phases = tf.mul(
      angular.reshape([heads, 1, 1, sines, dim]),
      tf.tensor(starts, [1, rows, count, 1, 1]),
    ) as tf.Tensor5D;
    return { rows, length, chunk, omega, phases } as unknown as tf.TensorContainerObject;
  }) as unknown as SineChunks;
}

/** The tensors `chunks` holds. */
export function sineChunkTensors(chunks: SineChunks): tf.Tensor[] {
  return [...chunks.omega, chunks.phases];
}

/**
 * The explicit code q̄ or k̄ `[P, N, H, D, R]` at positions `ids` `[P, N]` (with the query
 * offsets θ when `query`): the official `SineSPE` output, for checks against the golden cases and
 * the filter. The filter never forms it.
 */
export function sineCode(
  params: SineSpeParameters,
  ids: tf.Tensor2D,
  z: tf.Tensor4D,
  query: boolean,
): tf.Tensor5D {
  return tf.tidy(() => {
    const [heads, dim, sines] = params.freqs.shape;
    const [p, n] = ids.shape;
    const weights = sineWeights(params, z); // [H, 2K, D, R]
    const r = weights.shape[3];
    const angular = angularFrequencies(params).reshape([1, 1, heads, sines, dim]);
    let phase = tf.mul(angular, ids.reshape([p, n, 1, 1, 1]));
    if (query)
      phase = tf.add(phase, params.offsets.transpose([0, 2, 1]).reshape([1, 1, heads, sines, dim]));
    const omega = tf.concat([tf.cos(phase), tf.sin(phase)], 3); // [P, N, H, 2K, D]
    // q̄[p,n,h,d,r] = Σ_k′ Ω[p,n,h,k′,d]·W[h,k′,d,r], as a product batched over (h, d).
    const left = omega.transpose([2, 4, 0, 1, 3]).reshape([heads * dim, p * n, 2 * sines]);
    const right = weights.transpose([0, 2, 1, 3]).reshape([heads * dim, 2 * sines, r]);
    return tf
      .matMul(left, right)
      .reshape([heads, dim, p, n, r])
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
