/**
 * core's gelu on this engine runs the `PosencGelu` and `PosencGeluGrad` kernels; on cpu it runs
 * composite TF.js ops and autodiff. Values and gradients must agree.
 */
import { describe, expect, it } from 'vitest';
import { gelu, GELU_GRAD_KERNEL, GELU_KERNEL, tf } from '@posenc/core';
import { registerKernelsBackend } from '../backend.js';
import {
  expectSameAsCpu,
  randomValues,
  sizeOf,
  expectSameAsCpuWithoutGradientKernel,
} from '../testing/compare.js';

const SHAPES = [
  [3, 5], // under the elementwise threshold: still ours (the host has no GELU)
  [4, 64, 130],
  [3, 100, 1000], // the gradient runs in two chunks, the second partial
];

describe('GELU kernels', () => {
  for (const shape of SHAPES)
    it(`[${shape}]: forward and gradient equal the composite ops on cpu`, async () => {
      const info = await registerKernelsBackend();
      const f = () => {
        const x = tf.tensor(randomValues(sizeOf(shape), 21, -6, 6), shape);
        const w = tf.tensor(randomValues(sizeOf(shape), 22), shape);
        return [gelu(x), tf.grad((v: tf.Tensor) => tf.sum(tf.mul(gelu(v), w)))(x)];
      };
      const gradCalls = info.replacedCalls.get(GELU_GRAD_KERNEL) ?? 0;
      expect(await expectSameAsCpu(info, GELU_KERNEL, f, `gelu [${shape}]`)).toBe(2);
      expect((info.replacedCalls.get(GELU_GRAD_KERNEL) ?? 0) - gradCalls).toBe(1);
    });

  it("without the gradient kernel, the forward kernel differentiates through core's composite derivative", async () => {
    const shape = [6, 70];
    const f = () => {
      const x = tf.tensor(randomValues(sizeOf(shape), 23, -4, 4), shape);
      return tf.grad((v: tf.Tensor) => tf.sum(gelu(v)))(x);
    };
    const kernels = { forward: GELU_KERNEL, gradient: GELU_GRAD_KERNEL };
    expect(await expectSameAsCpuWithoutGradientKernel(kernels, f, 'gelu gradient')).toBe(1);
  });
});
