/**
 * core's layerNorm on this engine runs the `PosencLayerNorm` and `PosencLayerNormGrad` kernels;
 * on cpu it runs composite TF.js ops and autodiff. Values and gradients must agree.
 */
import { describe, expect, it } from 'vitest';
import { LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL, layerNorm, tf } from '@posenc/core';
import { registerKernelsBackend } from '../backend.js';
import {
  expectNoLeaks,
  expectSameAsCpu,
  randomValues,
  sizeOf,
  expectSameAsCpuWithoutGradientKernel,
} from '../testing/compare.js';

const CASES: { shape: number[]; offset: number }[] = [
  { shape: [7], offset: 0 },
  { shape: [3, 5], offset: 0 },
  { shape: [4, 33, 128], offset: 0 },
  // a residual stream far from zero mean: the variance must not cancel
  { shape: [2, 9, 64], offset: 100 },
];

function normalizedWithGradients(shape: number[], offset: number, eps: number) {
  const c = shape[shape.length - 1]!;
  const x = tf.add(tf.tensor(randomValues(sizeOf(shape), 31, -2, 2), shape), offset);
  const gamma = tf.tensor1d(randomValues(c, 32, 0.5, 1.5));
  const beta = tf.tensor1d(randomValues(c, 33));
  const w = tf.tensor(randomValues(sizeOf(shape), 34), shape);
  const f = (xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) =>
    tf.sum(tf.mul(layerNorm(xi, gi as tf.Tensor1D, bi as tf.Tensor1D, eps), w));
  return [layerNorm(x, gamma, beta, eps), ...tf.grads(f)([x, gamma, beta])];
}

describe('layer norm kernels', () => {
  for (const { shape, offset } of CASES)
    it(`[${shape}]${offset ? ` around ${offset}` : ''}: forward and gradients equal the composite ops on cpu, no leaks`, async () => {
      const info = await registerKernelsBackend();
      const gradCalls = info.replacedCalls.get(LAYER_NORM_GRAD_KERNEL) ?? 0;
      const f = () => normalizedWithGradients(shape, offset, 1e-5);
      const calls = await expectNoLeaks(info.name, () =>
        expectSameAsCpu(info, LAYER_NORM_KERNEL, f, `layerNorm [${shape}]`),
      );
      expect(calls).toBe(2);
      expect((info.replacedCalls.get(LAYER_NORM_GRAD_KERNEL) ?? 0) - gradCalls).toBe(1);
    });

  it("without the gradient kernel, the forward kernel differentiates through core's composite gradient", async () => {
    const f = () => normalizedWithGradients([6, 70], 0, 1e-3);
    const kernels = { forward: LAYER_NORM_KERNEL, gradient: LAYER_NORM_GRAD_KERNEL };
    expect(await expectSameAsCpuWithoutGradientKernel(kernels, f, 'layerNorm gradients')).toBe(2);
  });
});
