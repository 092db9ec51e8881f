import { describe, it } from 'vitest';
import { tf } from '@posenc/core';
import {
  checkGradientsByFiniteDifferences,
  expectClose,
  onCpuWithoutLeaks,
} from '@posenc/core/testing';
import { offsetRange, toeplitzProduct, type ToeplitzLayout } from './toeplitz.js';

onCpuWithoutLeaks();

/** out[b,h,i,:] = Σ_j c[h, p_in_j − p_out_i − offsetMin] x[b,h,j,:], in float64. */
function direct(c: tf.Tensor2D, x: tf.Tensor4D, layout: ToeplitzLayout): Float64Array {
  const [b, h, nIn, ch] = x.shape;
  const nOut = layout.outputPositions[0]!.length;
  const cv = c.dataSync();
  const xv = x.dataSync();
  const width = c.shape[1];
  const out = new Float64Array(b * h * nOut * ch);
  for (let r = 0; r < b; r++)
    for (let head = 0; head < h; head++)
      for (let i = 0; i < nOut; i++)
        for (let j = 0; j < nIn; j++) {
          const tau =
            layout.inputPositions[r]![j]! - layout.outputPositions[r]![i]! - layout.offsetMin;
          const w = cv[head * width + tau]!;
          for (let k = 0; k < ch; k++)
            out[((r * h + head) * nOut + i) * ch + k] +=
              w * xv[((r * h + head) * nIn + j) * ch + k]!;
        }
  return out;
}

/** Rows with gaps, other positions per row, and outputs at other positions than the inputs. */
function layoutOf(inputs: number[][], outputs: number[][]): ToeplitzLayout {
  const inputPositions = inputs.map((r) => Int32Array.from(r));
  const outputPositions = outputs.map((r) => Int32Array.from(r));
  return {
    inputPositions,
    outputPositions,
    offsetMin: offsetRange(inputPositions, outputPositions).min,
  };
}

const LAYOUT = layoutOf(
  [
    [0, 1, 3, 4, 9, 10],
    [5, 6, 7, 8, 12, 13],
  ],
  [
    [3, 4, 9, 11],
    [2, 7, 8, 13],
  ],
);

function inputs(channels: number) {
  const { min, max } = offsetRange(LAYOUT.inputPositions, LAYOUT.outputPositions);
  const c = tf.randomUniform([2, max - min + 1], 0.2, 2, 'float32', 1) as tf.Tensor2D;
  const x = tf.randomNormal([2, 2, 6, channels], 0, 1, 'float32', 2) as tf.Tensor4D;
  return { c, x };
}

describe('Toeplitz product by FFT', () => {
  for (const channels of [1, 4, 7])
    it(`equals the direct sum over positions with gaps (${channels} channels)`, () => {
      const { c, x } = inputs(channels);
      const out = toeplitzProduct(c, x, LAYOUT);
      expectClose(out, direct(c, x, LAYOUT), { atol: 1e-5 });
      tf.dispose([c, x, out]);
    });

  it('gradients in the coefficients and the inputs match finite differences', () => {
    const { c, x } = inputs(3);
    const cv = tf.variable(c);
    const xv = tf.variable(x);
    checkGradientsByFiniteDifferences(
      () => [toeplitzProduct(cv as unknown as tf.Tensor2D, xv as unknown as tf.Tensor4D, LAYOUT)],
      { c: cv, x: xv },
      { seed: 4 },
    );
    tf.dispose([c, x, cv, xv]);
  });
});
