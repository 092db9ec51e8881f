/**
 * core's softmaxCrossEntropy (the LM loss's tokenNll) on this engine runs the
 * `PosencCrossEntropy` and `PosencCrossEntropyGrad` kernels; on cpu it composes TF.js ops and
 * differentiates them. Values and gradients must agree, without leaks.
 */
import { describe, expect, it } from 'vitest';
import {
  CROSS_ENTROPY_GRAD_KERNEL,
  CROSS_ENTROPY_KERNEL,
  softmaxCrossEntropy,
  tf,
} from '@posenc/core';
import { registerKernelsBackend } from '../backend.js';
import {
  expectNoLeaks,
  expectSameAsCpu,
  randomValues,
  sizeOf,
  expectSameAsCpuWithoutGradientKernel,
} from '../testing/compare.js';

const SHAPES = [
  [3, 7],
  [4, 33, 256],
];

function nllWithGradient(shape: number[]): tf.Tensor[] {
  const lead = shape.slice(0, -1);
  const vocabulary = shape[shape.length - 1]!;
  const logits = tf.tensor(randomValues(sizeOf(shape), 51, -8, 8), shape);
  const targets = tf.tensor(
    Array.from({ length: sizeOf(lead) }, (_, i) => (i * 37 + 11) % vocabulary),
    lead,
    'int32',
  );
  const w = tf.tensor(randomValues(sizeOf(lead), 52), lead);
  const f = (l: tf.Tensor) => tf.sum(tf.mul(softmaxCrossEntropy(l, targets), w));
  return [softmaxCrossEntropy(logits, targets), tf.grad(f)(logits)];
}

describe('cross-entropy kernels', () => {
  for (const shape of SHAPES)
    it(`[${shape}]: NLL and gradient equal the composite ops on cpu, no leaks`, async () => {
      const info = await registerKernelsBackend();
      const gradCalls = info.replacedCalls.get(CROSS_ENTROPY_GRAD_KERNEL) ?? 0;
      const f = () => nllWithGradient(shape);
      const calls = await expectNoLeaks(info.name, () =>
        expectSameAsCpu(info, CROSS_ENTROPY_KERNEL, f, `nll [${shape}]`),
      );
      expect(calls).toBe(2);
      expect((info.replacedCalls.get(CROSS_ENTROPY_GRAD_KERNEL) ?? 0) - gradCalls).toBe(1);
    });

  it("without the gradient kernel, the forward kernel differentiates through core's composite gradient", async () => {
    const f = () => nllWithGradient([5, 40]);
    const kernels = { forward: CROSS_ENTROPY_KERNEL, gradient: CROSS_ENTROPY_GRAD_KERNEL };
    expect(await expectSameAsCpuWithoutGradientKernel(kernels, f, 'nll gradient')).toBe(2);
  });
});
