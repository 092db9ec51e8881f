/**
 * core's `PosencCrossEntropy` and `PosencCrossEntropyGrad` kernels: the per-position NLL as one
 * ONNX Runtime run (LogSoftmax, then the target's entry picked with GatherElements) and its
 * gradient as one more (Softmax, one subtracted at the targets, times dy), where TF.js ops make a
 * one-hot of `[…, V]` and several passes over it each way.
 */
import { CROSS_ENTROPY_GRAD_KERNEL, CROSS_ENTROPY_KERNEL, type tf } from '@posenc/core';
import { attr, type OnnxGraph } from '../onnx/model.js';
import { floatInputs, int64Tensor, onnxNode as node, scalarTensor } from '../onnx/nodes.js';
import { runGraph, type AcceleratedKernel } from './kernel-context.js';

type TensorInfo = tf.TensorInfo;

const LAST_AXIS = int64Tensor('last_axis', [-1]);

function forwardGraph(): OnnxGraph {
  return {
    nodes: [
      node('LogSoftmax', ['logits'], 'log_probs', [attr.int('axis', -1)]),
      node('Unsqueeze', ['targets', 'last_axis'], 'target_column'),
      node('GatherElements', ['log_probs', 'target_column'], 'picked', [attr.int('axis', -1)]),
      node('Squeeze', ['picked', 'last_axis'], 'log_likelihood'),
      node('Neg', ['log_likelihood'], 'nll'),
    ],
    initializers: [LAST_AXIS],
    inputs: [...floatInputs(['logits']), { name: 'targets', type: 'int32' }],
    outputs: floatInputs(['nll']),
  };
}

function gradientGraph(): OnnxGraph {
  return {
    nodes: [
      node('Softmax', ['logits'], 'probs', [attr.int('axis', -1)]),
      // probs − onehot: the target's probability less one, written back in place of it
      node('Unsqueeze', ['targets', 'last_axis'], 'target_column'),
      node('GatherElements', ['probs', 'target_column'], 'target_probs', [attr.int('axis', -1)]),
      node('Sub', ['target_probs', 'one'], 'target_residual'),
      node('ScatterElements', ['probs', 'target_column', 'target_residual'], 'residual', [
        attr.int('axis', -1),
      ]),
      node('Unsqueeze', ['dy', 'last_axis'], 'dy_column'),
      node('Mul', ['dy_column', 'residual'], 'd_logits'),
    ],
    initializers: [LAST_AXIS, scalarTensor('one', 1)],
    inputs: [...floatInputs(['dy', 'logits']), { name: 'targets', type: 'int32' }],
    outputs: floatInputs(['d_logits']),
  };
}

/** logits `[…, V]` float32 and targets `[…]` int32 of the same leading shape. */
function fits(logits: TensorInfo, targets: TensorInfo): boolean {
  const lead = logits.shape.slice(0, -1);
  return (
    logits.dtype === 'float32' &&
    targets.dtype === 'int32' &&
    logits.shape.length >= 1 &&
    targets.shape.length === lead.length &&
    targets.shape.every((d, i) => d === lead[i])
  );
}

export const crossEntropy: AcceleratedKernel = {
  kernelName: CROSS_ENTROPY_KERNEL,
  run({ inputs, backend }, ctx) {
    const { logits, targets } = inputs as Record<'logits' | 'targets', TensorInfo>;
    if (!fits(logits, targets)) return undefined;
    const out = [{ shape: targets.shape, dtype: 'float32' as const }];
    return runGraph(ctx, backend, CROSS_ENTROPY_KERNEL, forwardGraph, [logits, targets], out)[0];
  },
};

export const crossEntropyGrad: AcceleratedKernel = {
  kernelName: CROSS_ENTROPY_GRAD_KERNEL,
  run({ inputs, backend }, ctx) {
    const { dy, logits, targets } = inputs as Record<'dy' | 'logits' | 'targets', TensorInfo>;
    if (!fits(logits, targets) || dy.dtype !== 'float32') return undefined;
    const out = [{ shape: logits.shape, dtype: 'float32' as const }];
    return runGraph(
      ctx,
      backend,
      CROSS_ENTROPY_GRAD_KERNEL,
      gradientGraph,
      [dy, logits, targets],
      out,
    )[0];
  },
};
