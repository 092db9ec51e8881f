/**
 * core's `PosencLayerNorm` and `PosencLayerNormGrad` kernels on ONNX Runtime. The forward is one
 * run of ONNX's LayerNormalization (opset 17), which hands out the mean and inverse standard
 * deviation it computes; the backward is one run of a graph of reductions and elementwise nodes
 * (ONNX Runtime's CPU build has no layer-norm gradient op). Composed of TF.js ops, the two took
 * about 30 kernel calls per layer norm.
 */
import {
  LAYER_NORM_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
  type LayerNormAttrs,
  type tf,
} from '@posenc/core';
import { attr, type OnnxGraph, type OnnxNode } from '../onnx/model.js';
import { floatInputs as floats, int64Tensor, onnxNode as node } from '../onnx/nodes.js';
import { runGraph, type AcceleratedKernel } from './kernel-context.js';

type TensorInfo = tf.TensorInfo;

function forwardGraph(eps: number): OnnxGraph {
  return {
    nodes: [
      {
        op: 'LayerNormalization',
        inputs: ['x', 'gamma', 'beta'],
        outputs: ['y', 'mean', 'inv_std'],
        attributes: [attr.int('axis', -1), attr.float('epsilon', eps)],
      },
    ],
    inputs: floats(['x', 'gamma', 'beta']),
    outputs: floats(['y', 'mean', 'inv_std']),
  };
}

const lastAxisMean = (input: string, output: string) =>
  node('ReduceMean', [input, 'last_axis'], output, [attr.int('keepdims', 1)]);
/** Σ over every axis but the last: rows flattened to one axis, then summed. */
const rowSum = (input: string, output: string): OnnxNode[] => [
  node('Flatten', [input], `${output}_rows`, [attr.int('axis', -1)]),
  node('ReduceSum', [`${output}_rows`, 'row_axis'], output, [attr.int('keepdims', 0)]),
];

function gradientGraph(): OnnxGraph {
  return {
    nodes: [
      node('Sub', ['x', 'mean'], 'centred'),
      node('Mul', ['centred', 'inv_std'], 'x_hat'),
      node('Mul', ['dy', 'gamma'], 'g'),
      lastAxisMean('g', 'g_mean'),
      node('Mul', ['g', 'x_hat'], 'g_x_hat'),
      lastAxisMean('g_x_hat', 'g_x_hat_mean'),
      node('Sub', ['g', 'g_mean'], 'g_centred'),
      node('Mul', ['x_hat', 'g_x_hat_mean'], 'projection'),
      node('Sub', ['g_centred', 'projection'], 'dx_unscaled'),
      node('Mul', ['dx_unscaled', 'inv_std'], 'dx'),
      node('Mul', ['dy', 'x_hat'], 'dy_x_hat'),
      ...rowSum('dy_x_hat', 'dgamma'),
      ...rowSum('dy', 'dbeta'),
    ],
    initializers: [int64Tensor('last_axis', [-1]), int64Tensor('row_axis', [0])],
    inputs: floats(['dy', 'x', 'gamma', 'mean', 'inv_std']),
    outputs: floats(['dx', 'dgamma', 'dbeta']),
  };
}

const isFloat = (...ts: TensorInfo[]) => ts.every((t) => t.dtype === 'float32');
const features = (x: TensorInfo) => x.shape[x.shape.length - 1]!;
const isVectorOf = (t: TensorInfo, n: number) => t.shape.length === 1 && t.shape[0] === n;

/** Below `minElements` the kernel still runs here: the host has no layer-norm kernel to hand back to. */
export const layerNorm: AcceleratedKernel = {
  kernelName: LAYER_NORM_KERNEL,
  run({ inputs, attrs, backend }, ctx) {
    const { x, gamma, beta } = inputs as Record<'x' | 'gamma' | 'beta', TensorInfo>;
    const { eps } = attrs as unknown as LayerNormAttrs;
    if (!isFloat(x, gamma, beta) || x.shape.length < 1) return undefined;
    if (!isVectorOf(gamma, features(x)) || !isVectorOf(beta, features(x))) return undefined;
    const statistics = [...x.shape.slice(0, -1), 1];
    return runGraph(
      ctx,
      backend,
      `${LAYER_NORM_KERNEL}:${eps}`,
      () => forwardGraph(eps),
      [x, gamma, beta],
      [
        { shape: x.shape, dtype: 'float32' },
        { shape: statistics, dtype: 'float32' },
        { shape: statistics, dtype: 'float32' },
      ],
    );
  },
};

export const layerNormGrad: AcceleratedKernel = {
  kernelName: LAYER_NORM_GRAD_KERNEL,
  run({ inputs, backend }, ctx) {
    const { dy, x, gamma, mean, invStd } = inputs as Record<
      'dy' | 'x' | 'gamma' | 'mean' | 'invStd',
      TensorInfo
    >;
    if (!isFloat(dy, x, gamma, mean, invStd) || x.shape.length < 1) return undefined;
    if (dy.shape.join() !== x.shape.join() || !isVectorOf(gamma, features(x))) return undefined;
    const c = features(x);
    return runGraph(
      ctx,
      backend,
      LAYER_NORM_GRAD_KERNEL,
      gradientGraph,
      [dy, x, gamma, mean, invStd],
      [
        { shape: x.shape, dtype: 'float32' },
        { shape: [c], dtype: 'float32' },
        { shape: [c], dtype: 'float32' },
      ],
    );
  },
};
