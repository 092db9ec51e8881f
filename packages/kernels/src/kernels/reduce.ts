/**
 * Reductions (Sum, Mean, Max, Min, Prod) on ONNX Runtime, float32.
 *
 * tfjs-backend-wasm reduces only over the innermost axes, transposing first otherwise; a bias
 * gradient (sum over every axis but the last) therefore copied the whole gradient each time.
 * ONNX Runtime reduces over any axes in place.
 */
import type { tf } from '@posenc/core';
import { attr, type OnnxGraph } from '../onnx/model.js';
import { int64Tensor } from '../onnx/nodes.js';
import { runGraph, sizeOf, type AcceleratedKernel } from './kernel-context.js';

type TensorInfo = tf.TensorInfo;

/** TF.js axis attribute (number, list, or null/undefined for all) → sorted non-negative axes. */
export function normalizeAxes(
  axis: number | number[] | null | undefined,
  rank: number,
): number[] | undefined {
  const list = axis == null ? [...Array(rank).keys()] : Array.isArray(axis) ? axis : [axis];
  const out = new Set<number>();
  for (const a of list) {
    if (!Number.isInteger(a) || a < -rank || a >= rank) return undefined;
    out.add(a < 0 ? a + rank : a);
  }
  return [...out].sort((x, y) => x - y);
}

function reduceKernel(
  kernelName: string,
  op: string,
  axisAttr: 'axis' | 'reductionIndices',
): AcceleratedKernel {
  return {
    kernelName,
    run({ inputs, attrs = {}, backend }, ctx) {
      const { x } = inputs as { x: TensorInfo };
      const rank = x.shape.length;
      if (x.dtype !== 'float32' || rank === 0 || sizeOf(x.shape) < ctx.minElements)
        return undefined;
      const axes = normalizeAxes(attrs[axisAttr] as number | number[] | undefined, rank);
      if (!axes || axes.length === 0) return undefined;
      const keepDims = Boolean(attrs['keepDims']);
      const shape = keepDims
        ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
        : x.shape.filter((_, i) => !axes.includes(i));
      const key = `${kernelName}:${axes}:${+keepDims}`;
      const build = (): OnnxGraph => ({
        nodes: [
          {
            op,
            inputs: ['x', 'axes'],
            outputs: ['y'],
            attributes: [attr.int('keepdims', keepDims ? 1 : 0)],
          },
        ],
        inputs: [{ name: 'x', type: 'float32' }],
        outputs: [{ name: 'y', type: 'float32' }],
        initializers: [int64Tensor('axes', axes)],
      });
      return runGraph(ctx, backend, key, build, [x], [{ shape, dtype: 'float32' }])[0];
    },
  };
}

export const REDUCE_KERNELS: readonly AcceleratedKernel[] = [
  reduceKernel('Sum', 'ReduceSum', 'axis'),
  reduceKernel('Mean', 'ReduceMean', 'axis'),
  reduceKernel('Max', 'ReduceMax', 'reductionIndices'),
  reduceKernel('Min', 'ReduceMin', 'axis'),
  reduceKernel('Prod', 'ReduceProd', 'axis'),
];
