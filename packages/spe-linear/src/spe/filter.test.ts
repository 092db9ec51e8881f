/**
 * The filter's forms agree with the official q̂ = Σ_d q̄·q (the einsum the golden cases check):
 * sineSPE by chunks of positions without its code, against the explicit code, on every layout of
 * positions the chunking tells apart; a code per batch row and one shared by the rows.
 */
import { describe, it } from 'vitest';
import { tf } from '@posenc/core';
import {
  checkGradientsByFiniteDifferences,
  expectClose,
  onCpuWithoutLeaks,
} from '@posenc/core/testing';
import { filterWithCode, filterWithSineChunks, sineMixer } from './filter.js';
import { sineChunks, sineChunkTensors, sineCode, sineWeights } from './sine-spe.js';

onCpuWithoutLeaks();

const [B, H, N, D, K, R] = [2, 2, 7, 3, 2, 5];

/** q̂[b,h,n,r] = Σ_d code[p,n,h,d,r]·x[b,h,n,d], p = b or 0. */
function einsum(x: tf.Tensor4D, code: tf.Tensor5D): Float64Array {
  const xv = x.dataSync();
  const cv = code.dataSync();
  const rows = code.shape[0];
  const out = new Float64Array(B * H * N * R);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let n = 0; n < N; n++)
        for (let r = 0; r < R; r++) {
          let s = 0;
          const p = rows === 1 ? 0 : b;
          for (let d = 0; d < D; d++)
            s += cv[(((p * N + n) * H + h) * D + d) * R + r]! * xv[((b * H + h) * N + n) * D + d]!;
          out[((b * H + h) * N + n) * R + r] = s;
        }
  return out;
}

describe('SPE filter', () => {
  const sineParams = () => ({
    freqs: tf.randomNormal([H, D, K], 0, 1, 'float32', 1) as tf.Tensor3D,
    offsets: tf.randomNormal([H, D, K], 0, 1, 'float32', 2) as tf.Tensor3D,
    gains: tf.randomNormal([H, D, K], 0, 1, 'float32', 3) as tf.Tensor3D,
  });
  const layouts: [string, number[][]][] = [
    ['evenly spaced positions (one Ω for every chunk)', [[3, 4, 5, 6, 7, 8, 9]]],
    ['a stride of 2.5 (one Ω for every chunk)', [[1, 3.5, 6, 8.5, 11, 13.5, 16]]],
    ['positions with gaps (an Ω per chunk)', [[0, 1, 2, 4, 5, 7, 9]]],
    [
      'rows with their own starts (one Ω, rotations per row)',
      [
        [0, 1, 2, 3, 4, 5, 6],
        [10, 11, 12, 13, 14, 15, 16],
      ],
    ],
    [
      'rows with their own gaps (an Ω per chunk and row)',
      [
        [0, 1, 2, 4, 5, 7, 9],
        [0, 2, 3, 4, 8, 9, 10],
      ],
    ],
    [
      'rows alike in the first chunk only (an Ω per chunk and row)',
      [
        [0, 1, 2, 3, 4, 5, 6],
        [0, 1, 2, 4, 5, 7, 9],
      ],
    ],
  ];
  for (const [what, rows] of layouts)
    for (const query of [false, true])
      it(`sineSPE by chunks of 3 equals the explicit code, ${what}, ${query ? 'query' : 'key'} side`, () => {
        const params = sineParams();
        const z = tf.randomNormal([H, D, 2 * K, R], 0, 1, 'float32', 4) as tf.Tensor4D;
        const ids = tf.tensor2d(rows) as tf.Tensor2D;
        const x = tf.randomNormal([B, H, N, D], 0, 1, 'float32', 5) as tf.Tensor4D;
        const code = sineCode(params, ids, z, query);
        const chunks = sineChunks(params, ids, rows.flat(), 3);
        const mixer = tf.tidy(() => sineMixer(sineWeights(params, z)));
        const out = filterWithSineChunks(x, chunks, mixer, query ? params.offsets : undefined);
        expectClose(out, einsum(x, code), { atol: 1e-5 });
        tf.dispose([...Object.values(params), z, ids, x, code, out, mixer]);
        tf.dispose(sineChunkTensors(chunks));
      });

  it('sineSPE with the gate: √(1−g)·code + √g·ε, by chunks', () => {
    const params = sineParams();
    const z = tf.randomNormal([H, D, 2 * K, R], 0, 1, 'float32', 4) as tf.Tensor4D;
    const rows = [[0, 1, 2, 3, 4, 5, 6]];
    const ids = tf.tensor2d(rows) as tf.Tensor2D;
    const x = tf.randomNormal([B, H, N, D], 0, 1, 'float32', 5) as tf.Tensor4D;
    const gate = {
      gate: tf.randomNormal([H, D], 0, 1, 'float32', 8) as tf.Tensor2D,
      epsilon: tf.randomNormal([H, D, R], 0, 1, 'float32', 9) as tf.Tensor3D,
    };
    const gatedCode = tf.tidy(() => {
      const g = tf.sigmoid(gate.gate).reshape([1, 1, H, D, 1]);
      const code = sineCode(params, ids, z, true);
      return tf.add(
        tf.mul(tf.sqrt(tf.sub(1, g)), code),
        tf.mul(tf.sqrt(g), gate.epsilon.reshape([1, 1, H, D, R])),
      ) as tf.Tensor5D;
    });
    const chunks = sineChunks(params, ids, rows.flat(), 3);
    const mixer = tf.tidy(() => sineMixer(sineWeights(params, z)));
    const out = filterWithSineChunks(x, chunks, mixer, params.offsets, gate);
    expectClose(out, einsum(x, gatedCode), { atol: 1e-5 });
    tf.dispose([
      ...Object.values(params),
      z,
      ids,
      x,
      gatedCode,
      out,
      mixer,
      gate.gate,
      gate.epsilon,
    ]);
    tf.dispose(sineChunkTensors(chunks));
  });

  it('sineSPE by chunks: gradients in x, the sine parameters and the gate match finite differences', () => {
    const rows = [
      [0, 1, 2, 4, 5, 7, 9],
      [2, 3, 4, 5, 6, 7, 8],
    ];
    const ids = tf.tensor2d(rows) as tf.Tensor2D;
    const z = tf.randomNormal([H, D, 2 * K, R], 0, 1, 'float32', 4) as tf.Tensor4D;
    const epsilon = tf.randomNormal([H, D, R], 0, 1, 'float32', 9) as tf.Tensor3D;
    const variable = (shape: number[], seed: number) =>
      tf.tidy(() => tf.variable(tf.randomNormal(shape, 0, 1, 'float32', seed)));
    const v = {
      x: variable([B, H, N, D], 5),
      freqs: variable([H, D, K], 1),
      offsets: variable([H, D, K], 2),
      gains: variable([H, D, K], 3),
      gate: variable([H, D], 8),
    };
    const params = v as unknown as { freqs: tf.Tensor3D; offsets: tf.Tensor3D; gains: tf.Tensor3D };
    checkGradientsByFiniteDifferences(
      () => {
        const chunks = sineChunks(params, ids, rows.flat(), 3);
        const weights = sineWeights(params, z);
        const mixer = sineMixer(weights);
        const gate = { gate: v.gate as unknown as tf.Tensor2D, epsilon };
        const x = v.x as unknown as tf.Tensor4D;
        const out = [
          filterWithSineChunks(x, chunks, mixer, params.offsets, gate),
          filterWithSineChunks(x, chunks, mixer, undefined, gate),
        ];
        tf.dispose([...sineChunkTensors(chunks), weights, mixer]);
        return out;
      },
      v,
      { seed: 11 },
    );
    tf.dispose([ids, z, epsilon, ...Object.values(v)]);
  });

  it('a code per batch row and a code shared by the rows', () => {
    for (const rows of [1, B]) {
      const x = tf.randomNormal([B, H, N, D], 0, 1, 'float32', 6) as tf.Tensor4D;
      const code = tf.randomNormal([rows, N, H, D, R], 0, 1, 'float32', 7) as tf.Tensor5D;
      const out = filterWithCode(x, code);
      expectClose(out, einsum(x, code), { atol: 1e-5 });
      tf.dispose([x, code, out]);
    }
  });
});
