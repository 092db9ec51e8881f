/**
 * convSPE's chunked filter equals filtering with the whole code: chunks of positions read their
 * own noise windows (positions with gaps, a row of positions per batch row), and its gradients
 * in the inputs and the filters match finite differences across chunks.
 */
import { describe, it } from 'vitest';
import { tf } from '@posenc/core';
import {
  checkGradientsByFiniteDifferences,
  expectClose,
  onCpuWithoutLeaks,
} from '@posenc/core/testing';
import { SeededSpeNoise } from '../noise/spe-noise.js';
import { convCodeOf, convNoise1d, filterConv1dByChunks } from './conv-spe.js';
import { filterWithCode } from './filter.js';

onCpuWithoutLeaks();

const [B, H, D, R, L] = [2, 2, 3, 4, 3];
const ROWS = [
  [0, 1, 2, 4, 5, 7, 9, 10, 11],
  [3, 4, 5, 6, 8, 9, 12, 13, 14],
];
const N = ROWS[0]!.length;
const source = new SeededSpeNoise(5);
const noise = (lo: number, hi: number) => convNoise1d(source, R, H * D, L, lo, hi);

/** The whole code over every position any row reads, gathered per row: `[P, N, H, D, R]`. */
function wholeCode(filter: tf.Tensor, rows: number[][]): tf.Tensor5D {
  return tf.tidy(() => {
    const flat = rows.flat();
    const lo = Math.min(...flat);
    const codes = convCodeOf(filter, noise(lo, Math.max(...flat)), H, D);
    const index = tf.tensor1d(
      Int32Array.from(flat, (v) => v - lo),
      'int32',
    );
    return tf.gather(codes, index).reshape([rows.length, N, H, D, R]) as tf.Tensor5D;
  });
}

describe('convSPE by chunks of positions', () => {
  for (const rows of [ROWS.slice(0, 1), ROWS])
    it(`equals the whole code (${rows.length} row${rows.length > 1 ? 's' : ''} of positions with gaps, chunks of 4)`, () => {
      const x = tf.randomNormal([B, H, N, D], 0, 1, 'float32', 1) as tf.Tensor4D;
      const k = tf.randomNormal([B, H, N, D], 0, 1, 'float32', 2) as tf.Tensor4D;
      const filterQ = tf.randomUniform([H * D, L], 0, 1, 'float32', 3);
      const filterK = tf.randomUniform([H * D, L], 0, 1, 'float32', 4);
      const values = Float32Array.from(rows.flat());
      const out = filterConv1dByChunks(
        [
          { x, filter: filterQ },
          { x: k, filter: filterK },
        ],
        values,
        rows.length,
        noise,
        4,
        (input, code) => filterWithCode(input, code),
      );
      const expected = tf.tidy(() => [
        filterWithCode(x, wholeCode(filterQ, rows)),
        filterWithCode(k, wholeCode(filterK, rows)),
      ]);
      expectClose(out[0]!, expected[0]!.dataSync(), { atol: 1e-5 }, 'q');
      expectClose(out[1]!, expected[1]!.dataSync(), { atol: 1e-5 }, 'k');
      tf.dispose([x, k, filterQ, filterK, ...out, ...expected]);
    });

  it('gradients in x and the filter match finite differences across chunks', () => {
    const v = {
      x: tf.tidy(() => tf.variable(tf.randomNormal([B, H, N, D], 0, 1, 'float32', 1))),
      filter: tf.tidy(() => tf.variable(tf.randomUniform([H * D, L], 0, 1, 'float32', 3))),
    };
    const values = Float32Array.from(ROWS.flat());
    checkGradientsByFiniteDifferences(
      () =>
        filterConv1dByChunks(
          [{ x: v.x as unknown as tf.Tensor4D, filter: v.filter }],
          values,
          2,
          noise,
          4,
          (input, code) => filterWithCode(input, code),
        ),
      v,
      { seed: 3 },
    );
    tf.dispose(Object.values(v));
  });
});
