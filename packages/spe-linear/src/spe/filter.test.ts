/**
 * The filter's two forms agree with the official q̂ = Σ_d q̄·q (the einsum the golden cases
 * check): sineSPE's code applied in blocks of positions, and a code per batch row.
 */
import { describe, it } from 'vitest';
import { tf } from '@posenc/core';
import { expectClose, onCpuWithoutLeaks } from '@posenc/core/testing';
import { filterWithCode, filterWithSineFactors } from './filter.js';
import { sineCodeOf, sineFactors } from './sine-spe.js';

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
  it('sineSPE in blocks of 3 positions equals the one-block code', () => {
    const params = {
      freqs: tf.randomNormal([H, D, K], 0, 1, 'float32', 1) as tf.Tensor3D,
      offsets: tf.randomNormal([H, D, K], 0, 1, 'float32', 2) as tf.Tensor3D,
      gains: tf.randomNormal([H, D, K], 0, 1, 'float32', 3) as tf.Tensor3D,
    };
    const z = tf.randomNormal([H, D, 2 * K, R], 0, 1, 'float32', 4) as tf.Tensor4D;
    const ids = tf.tensor2d([[0, 1, 2, 4, 5, 7, 9]]) as tf.Tensor2D;
    const x = tf.randomNormal([B, H, N, D], 0, 1, 'float32', 5) as tf.Tensor4D;
    const whole = sineFactors(params, ids, ids, z);
    const blocks = sineFactors(params, ids, ids, z, 3);
    const code = sineCodeOf(whole.omegaQ[0]!, whole.weights, H);
    const out = filterWithSineFactors(x, blocks.omegaQ, blocks.weights);
    expectClose(out, einsum(x, code), { atol: 1e-5 });
    tf.dispose([...Object.values(params), z, ids, x, code, out, whole.weights, blocks.weights]);
    tf.dispose([...whole.omegaQ, ...whole.omegaK, ...blocks.omegaQ, ...blocks.omegaK]);
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
