/**
 * SPE's filter (`SPEFilter` of aliutkus/spe): q̂[n, r] = Σ_d q̄[n, d, r]·q[n, d], per head, with
 * the optional gate q̄ ← √(1 − g)·q̄ + √g·ε, g = sigmoid(gate) per (head, dim), ε the same for q
 * and k and every position. The official code forms q̄·q[…, None], a B×N×H×D×R tensor; here
 * the sum over d is a batched matmul (sineSPE's code is not even formed: `filterWithSineChunks`),
 * and the gate is moved off the code — Σ_d (√(1−g)q)_d q̄_d + Σ_d (√g q)_d ε_d — so no gated
 * copy of it is made either (sineSPE's filter puts √(1 − g) on its weights' rows instead of q).
 */
import { modulatedProduct, tf } from '@posenc/core';
import type { SineChunks } from './sine-spe.js';

/** Weight elements `[H, P, chunks, 2K·D, R]` one group of chunks makes at once (2¹⁹ floats: 2 MiB). */
const SINE_WEIGHT_ELEMENTS = 2 ** 19;

/** The gate of one layer: `g = sigmoid(gate)` `[H, D]` and its ε `[H, D, R]` (already scaled). */
export interface Gate {
  readonly gate: tf.Tensor2D;
  readonly epsilon: tf.Tensor3D;
}

/** ε from the raw draw: N(0, 1)/(D·R)^¼, so that Σ_r ε_r² ≈ √(R/D) like the code's. */
export function gateEpsilon(raw: tf.Tensor3D): tf.Tensor3D {
  const [, dim, realizations] = raw.shape;
  return tf.mul(raw, (dim * realizations) ** -0.25);
}

/** x `[B, H, N, D]` scaled by √(1 − g) and its gate term Σ_d √g_d x_d ε_d `[B, H, N, R]`. */
function gated(x: tf.Tensor4D, gate: Gate): { x: tf.Tensor4D; term: tf.Tensor4D } {
  const [b, h, n, d] = x.shape;
  const g = tf.sigmoid(gate.gate).reshape([1, h, 1, d]);
  const dry = tf.mul(x, tf.sqrt(tf.sub(1, g))) as tf.Tensor4D;
  const wet = tf
    .mul(x, tf.sqrt(g))
    .transpose([1, 0, 2, 3])
    .reshape([h, b * n, d]);
  const r = gate.epsilon.shape[2];
  const term = tf
    .matMul(wet as tf.Tensor3D, gate.epsilon)
    .reshape([h, b, n, r])
    .transpose([1, 0, 2, 3]) as tf.Tensor4D;
  return { x: dry, term };
}

/**
 * Filters x `[B, H, N, D]` with a code `[P, N, H, D, R]` (P = 1: one code for every batch row,
 * as the official code; P = B: a code per row, for rows with positions of their own).
 */
export function filterWithCode(x: tf.Tensor4D, code: tf.Tensor5D, gate?: Gate): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, n, d] = x.shape;
    const [p, , , , r] = code.shape;
    const { x: input, term } = gate ? gated(x, gate) : { x, term: undefined };
    let out: tf.Tensor;
    if (p === 1) {
      // Batch over (h, n): [H·N, B, D] @ [H·N, D, R].
      const rows = input.transpose([1, 2, 0, 3]).reshape([h * n, b, d]) as tf.Tensor3D;
      const codes = code
        .reshape([n, h, d, r])
        .transpose([1, 0, 2, 3])
        .reshape([h * n, d, r]) as tf.Tensor3D;
      out = tf.matMul(rows, codes).reshape([h, n, b, r]).transpose([2, 0, 1, 3]);
    } else {
      const rows = input.reshape([b * h * n, 1, d]) as tf.Tensor3D;
      const codes = code.transpose([0, 2, 1, 3, 4]).reshape([b * h * n, d, r]) as tf.Tensor3D;
      out = tf.matMul(rows, codes).reshape([b, h, n, r]);
    }
    return (term ? tf.add(out, term) : out) as tf.Tensor4D;
  });
}

/**
 * The weights W `[H, 2K, D, R]` as the chunked filter rotates them: the row of W rotated by φ
 * (per head, sine and dim) is cos φ·`cos` + sin φ·`sin`, with `cos` = [W_cos, W_sin] (W itself)
 * and `sin` = [W_sin, −W_cos], each `[H, 1, 2, K·D, R]` so that angles `[H, chunks, 1, K·D, 1]`
 * broadcast into the rotated weights of every chunk in the layout the products read (see
 * `filterWithSineChunks`). It depends on the weights alone, so one serves both sides and every
 * layer of a forward pass.
 */
// A type, not an interface, so that it is a TensorContainer (tidy can return it).
export type SineMixer = {
  readonly cos: tf.Tensor5D;
  readonly sin: tf.Tensor5D;
};

export function sineMixer(weights: tf.Tensor4D): SineMixer {
  return tf.tidy(() => {
    const [h, twiceK, d, r] = weights.shape;
    const [cosW, sinW] = tf.split(weights, 2, 1); // [H, K, D, R] each
    const shape = [h, 1, 2, (twiceK / 2) * d, r];
    return {
      cos: weights.reshape(shape),
      sin: tf.concat([sinW!, tf.neg(cosW!)], 1).reshape(shape),
    };
  });
}

/** The mixer's tensors. */
export const sineMixerTensors = (m: SineMixer): tf.Tensor[] => [m.cos, m.sin];

/**
 * Filters x `[B, H, N, D]` with sineSPE without forming its code: chunk by chunk of positions,
 * F = x ⊙ Ω `[H, B, len, 2K, D]` times the weights rotated to the chunk's start (and by the query
 * offsets θ on the query side: `offsets` `[H, D, K]`), one product per head of [len, 2K·D] by
 * [2K·D, R]: core's `modulatedProduct`, one engine call per group of chunks where the engine has
 * the kernel. The weights come as `mixer` = `sineMixer(W)`. Only one chunk's F and one group's
 * weights exist at a time in a forward pass.
 */
export function filterWithSineChunks(
  x: tf.Tensor4D,
  chunks: SineChunks,
  mixer: SineMixer,
  offsets?: tf.Tensor3D,
  gate?: Gate,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, n, d] = x.shape;
    const [, , , sineDims, r] = mixer.cos.shape;
    const sines = sineDims / d;
    const columns = 2 * sines;
    const p = chunks.rows;
    if (chunks.length !== n || (p !== 1 && p !== b))
      throw new Error(
        `SPE filter: positions [${p}, ${chunks.length}] do not fit x [${x.shape}] (rows 1 or ${b}, length ${n})`,
      );
    const rows = x.transpose([1, 0, 2, 3]) as tf.Tensor4D; // [H, B, N, D]: shared data at B = 1
    // The gate's √(1 − g) scales the weights' rows (j, d) rather than x, and its ε term is one
    // product of the same rows: no scaled or transposed copy of x.
    let mix = mixer;
    let term: tf.Tensor | undefined;
    if (gate) {
      const g = tf.sigmoid(gate.gate); // [H, D]
      const dry = tf.sqrt(tf.sub(1, g)).reshape([h, 1, 1, 1, d, 1]);
      const scaled = (m: tf.Tensor5D) =>
        tf.mul(m.reshape([h, 1, 2, sines, d, r]), dry).reshape(m.shape) as tf.Tensor5D;
      mix = { cos: scaled(mixer.cos), sin: scaled(mixer.sin) };
      const wet = tf.mul(gate.epsilon, tf.sqrt(g).expandDims(2)) as tf.Tensor3D; // [H, D, R]
      term = tf.matMul(rows.reshape([h, b * n, d]) as tf.Tensor3D, wet).reshape([h, b, n, r]);
    }
    const theta = offsets?.transpose([0, 2, 1]).reshape([h, 1, 1, sines, d]); // [H, 1, 1, K, D]
    const count = chunks.phases.shape[2];
    const sizes = Array.from({ length: count }, (_, c) =>
      Math.min(chunks.chunk, n - c * chunks.chunk),
    );
    // Chunks go in groups: the weights of a group's chunks are made at once (a few ops instead of
    // a few per chunk), and only one group's weights and intermediates live at a time.
    const group = Math.max(1, Math.floor(SINE_WEIGHT_ELEMENTS / (h * p * columns * d * r)));
    const groups: number[][] = [];
    for (let c = 0; c < count; c += group)
      groups.push(Array.from({ length: Math.min(group, count - c) }, (_, i) => c + i));
    // Split once: a slice per group would read the whole input on some engines.
    const groupRows = tf.tidy(() => {
      return groups.length === 1
        ? [rows]
        : tf.split(
            rows,
            groups.map((g) => g.reduce((sum, c) => sum + sizes[c]!, 0)),
            2,
          );
    });
    // (cos, sin)(φ + δ) is (cos δ, sin δ) rotated by φ, so the rotation moves into W. Every
    // chunk's angles at once: one call each for cos and sin, not one per group.
    const phase = theta ? tf.add(chunks.phases, theta) : chunks.phases; // [H, P, C, K, D]
    const angles = [tf.cos(phase), tf.sin(phase)].map((a) => {
      const rows = a.reshape([h, p, count, sines * d]);
      return groups.length === 1
        ? [rows]
        : tf.split(
            rows,
            groups.map((g) => g.length),
            2,
          );
    });
    const pieces = groups.map((members, gi) =>
      tf.tidy(() => {
        const g = members.length;
        // Two broadcast multiplies straight into [H, P·g, 2, K·D, R]: no transpose after.
        const at = (a: tf.Tensor[][], i: number) => a[i]![gi]!.reshape([h, p * g, 1, sines * d, 1]);
        const rotated = tf
          .add(tf.mul(at(angles, 0), mix.cos), tf.mul(at(angles, 1), mix.sin))
          .reshape([h, p, g, columns * d, r]) as tf.Tensor5D;
        // One product for the group when its chunks share a table (consecutive positions);
        // otherwise one per chunk, each with its own.
        if (chunks.omega.length === 1)
          return modulatedProduct(groupRows[gi]! as tf.Tensor4D, chunks.omega[0]!, rotated);
        const weightChunks = tf.split(rotated, members.length, 2) as tf.Tensor5D[];
        const rowChunks = tf.split(
          groupRows[gi]!,
          members.map((c) => sizes[c]!),
          2,
        ) as tf.Tensor4D[];
        const outs = members.map((c, i) =>
          modulatedProduct(rowChunks[i]!, chunks.omega[c]!, weightChunks[i]!),
        );
        return outs.length === 1 ? outs[0]! : tf.concat(outs, 2);
      }),
    );
    const joined = pieces.length === 1 ? pieces[0]! : tf.concat(pieces, 2);
    return (term ? tf.add(joined, term) : joined).transpose([1, 0, 2, 3]) as tf.Tensor4D;
  });
}
