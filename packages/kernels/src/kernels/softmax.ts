/**
 * Softmax over the last axis (the only axis TF.js 4.22's `tf.softmax` accepts) with MLAS's
 * vectorised exp, through ONNX Softmax-13, whose `axis` normalises one axis exactly like TF.
 */
import type { tf } from '@posenc/core';
import { attr } from '../onnx/model.js';
import { runGraph, sizeOf, type AcceleratedKernel } from './kernel-context.js';

export const softmax: AcceleratedKernel = {
  kernelName: 'Softmax',
  run({ inputs, attrs, backend }, ctx) {
    const { logits } = inputs as { logits: tf.TensorInfo };
    const { dim } = attrs as { dim: number };
    const rank = logits.shape.length;
    if (logits.dtype !== 'float32' || rank === 0 || (dim !== -1 && dim !== rank - 1))
      return undefined;
    if (sizeOf(logits.shape) < ctx.minElements) return undefined;
    const build = () => ({
      nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['y'], attributes: [attr.int('axis', -1)] }],
      inputs: [{ name: 'x', type: 'float32' as const }],
      outputs: [{ name: 'y', type: 'float32' as const }],
    });
    return runGraph(
      ctx,
      backend,
      'Softmax',
      build,
      [logits],
      [{ shape: logits.shape, dtype: 'float32' }],
    )[0];
  },
};
