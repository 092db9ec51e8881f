/**
 * core's modulated product (sineSPE's filter) on this engine runs `PosencModulatedProduct` and
 * `PosencModulatedProductGrad`, one ONNX Runtime run each; on cpu it composes TF.js ops and
 * differentiates them. Output and the gradients of x, Ω and W must agree for one chunk and many,
 * a full and a short last chunk, tables shared by the batch rows or one per row, without leaks.
 */
import { describe, expect, it } from 'vitest';
import {
  MODULATED_PRODUCT_GRAD_KERNEL,
  MODULATED_PRODUCT_KERNEL,
  modulatedProduct,
  tf,
} from '@posenc/core';
import { registerKernelsBackend } from '../backend.js';
import {
  expectKernelsSameAsCpu,
  randomValues,
  sizeOf,
  expectSameAsCpuWithoutGradientKernel,
} from '../testing/compare.js';

interface Case {
  label: string;
  /** H, B, N, D, P, C, J, R. */
  sizes: [number, number, number, number, number, number, number, number];
  /** W's P when it differs from Ω's. */
  weightRows?: number;
}

const CASES: Case[] = [
  { label: 'one chunk, B = 1', sizes: [2, 1, 7, 4, 1, 7, 6, 5] },
  { label: 'one short chunk, shared by 3 rows', sizes: [2, 3, 5, 4, 1, 8, 3, 2] },
  { label: 'four chunks, the last short, shared by 2 rows', sizes: [2, 2, 15, 3, 1, 4, 4, 3] },
  // The same graph as the case before (four chunks, the last short), another length.
  { label: 'four chunks of another length', sizes: [2, 2, 14, 3, 1, 4, 4, 3] },
  { label: 'three full chunks, a table per row', sizes: [1, 2, 12, 2, 2, 4, 4, 3] },
  { label: 'three chunks, the last short, B = 1', sizes: [3, 1, 21, 8, 1, 8, 20, 16] },
  {
    label: 'a shared table, weights per row, short last chunk',
    sizes: [2, 2, 7, 2, 1, 3, 2, 2],
    weightRows: 2,
  },
  { label: 'a table per row, shared weights', sizes: [1, 3, 6, 2, 3, 4, 2, 2], weightRows: 1 },
];

/** Output and the gradients of a weighted sum of it with respect to x, Ω and W. */
function productWithGradients(c: Case): tf.Tensor[] {
  const [h, b, n, d, p, chunk, j, r] = c.sizes;
  const chunks = Math.ceil(n / chunk);
  const values = (shape: number[], seed: number) =>
    tf.variable(tf.tensor(randomValues(sizeOf(shape), seed, -1.5, 1.5), shape));
  const x = values([h, b, n, d], 11);
  const omega = values([h, p, chunk, j, d], 12);
  const weights = values([h, c.weightRows ?? p, chunks, j * d, r], 13);
  const w = tf.tensor(randomValues(h * b * n * r, 14), [h, b, n, r]);
  const forward = () =>
    modulatedProduct(
      x as unknown as tf.Tensor4D,
      omega as unknown as tf.Tensor5D,
      weights as unknown as tf.Tensor5D,
    );
  const variables = [x, omega, weights];
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(forward(), w)) as tf.Scalar, variables);
  const out = [forward(), ...variables.map((v) => grads[v.name]!)];
  tf.dispose(variables);
  return out;
}

describe('modulated product kernels', () => {
  for (const c of CASES)
    it(`${c.label}: output and gradients equal the composite ops on cpu, no leaks`, async () => {
      const info = await registerKernelsBackend();
      const calls = await expectKernelsSameAsCpu(
        info,
        { forward: MODULATED_PRODUCT_KERNEL, gradient: MODULATED_PRODUCT_GRAD_KERNEL },
        () => productWithGradients(c),
        c.label,
      );
      expect(calls).toEqual({ forward: 2, gradient: 1 });
    });

  it("without the gradient kernel, the forward kernel differentiates through core's composite gradient", async () => {
    const kernels = { forward: MODULATED_PRODUCT_KERNEL, gradient: MODULATED_PRODUCT_GRAD_KERNEL };
    for (const c of [CASES[2]!, CASES[3]!])
      expect(
        await expectSameAsCpuWithoutGradientKernel(kernels, () => productWithGradients(c), c.label),
      ).toBe(2);
  });
});
