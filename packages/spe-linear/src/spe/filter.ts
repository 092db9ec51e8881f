/**
 * SPE's filter (`SPEFilter` of aliutkus/spe): q̂[n, r] = Σ_d q̄[n, d, r]·q[n, d], per head, with
 * the optional gate q̄ ← √(1 − g)·q̄ + √g·ε, g = sigmoid(gate) per (head, dim), ε the same for q
 * and k and every position. The official code forms q̄·q[…, None], a B×N×H×D×R tensor; here
 * the sum over d is a batched matmul, and the gate is moved onto q — Σ_d (√(1−g)q)_d q̄_d +
 * Σ_d (√g q)_d ε_d — so no gated copy of the code is made either.
 */
import { tf } from '@posenc/core';

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
 * Filters with sineSPE's factored code, Ω in blocks of positions `[P, H·D, block, 2K]` and W
 * `[H·D, 2K, R]`: each block's code is formed (Ω·W, one batched product) and applied at once, so
 * the whole [N, H, D, R] code never exists in a forward pass (training keeps each block's code
 * for the gradient, as it would keep the whole code).
 */
export function filterWithSineFactors(
  x: tf.Tensor4D,
  omega: readonly tf.Tensor4D[],
  weights: tf.Tensor3D,
  gate?: Gate,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, , d] = x.shape;
    const r = weights.shape[2];
    const { x: input, term } = gate ? gated(x, gate) : { x, term: undefined };
    const pieces: tf.Tensor[] = [];
    let start = 0;
    for (const block of omega) {
      const [p, , size] = block.shape;
      const code = tf
        .matMul(block, weights.expandDims(0) as tf.Tensor4D) // [P, H·D, size, R]
        .reshape([p, h, d, size, r])
        .transpose([0, 1, 3, 2, 4]); // [P, H, size, D, R]
      const rows = input.slice([0, 0, start, 0], [b, h, size, d]);
      if (p === 1) {
        const left = rows.transpose([1, 2, 0, 3]).reshape([h * size, b, d]) as tf.Tensor3D;
        const product = tf.matMul(left, code.reshape([h * size, d, r]) as tf.Tensor3D);
        pieces.push(product.reshape([h, size, b, r]).transpose([2, 0, 1, 3]));
      } else {
        const left = rows.reshape([b * h * size, 1, d]) as tf.Tensor3D;
        const product = tf.matMul(left, code.reshape([b * h * size, d, r]) as tf.Tensor3D);
        pieces.push(product.reshape([b, h, size, r]));
      }
      start += size;
    }
    const out = pieces.length === 1 ? pieces[0]! : tf.concat(pieces, 2);
    return (term ? tf.add(out, term) : out) as tf.Tensor4D;
  });
}
