/**
 * Reductions (Sum, Mean, Max, Min, Prod) and Transpose on ONNX Runtime, float32.
 *
 * tfjs-backend-wasm reduces only over the innermost axes, transposing first otherwise; a bias
 * gradient (sum over every axis but the last) therefore copied the whole gradient each time.
 * ONNX Runtime reduces over any axes in place.
 */
import type { tf } from '@posenc/core';
import { attr, type OnnxGraph } from '../onnx/model.js';
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
        initializers: [
          {
            name: 'axes',
            type: 'int64',
            dims: [axes.length],
            data: BigInt64Array.from(axes, BigInt),
          },
        ],
      });
      return runGraph(ctx, backend, key, build, [x], [{ shape, dtype: 'float32' }])[0];
    },
  };
}

export const transpose: AcceleratedKernel = {
  kernelName: 'Transpose',
  run({ inputs, attrs, backend }, ctx) {
    const { x } = inputs as { x: TensorInfo };
    const { perm } = attrs as { perm: number[] };
    const rank = x.shape.length;
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || sizeOf(x.shape) < ctx.minElements)
      return undefined;
    if (
      perm.length !== rank ||
      new Set(perm).size !== rank ||
      perm.some((p) => !Number.isInteger(p) || p < 0 || p >= rank)
    )
      return undefined;
    const type = x.dtype;
    const shape = perm.map((p) => x.shape[p]!);
    const build = (): OnnxGraph => ({
      nodes: [
        { op: 'Transpose', inputs: ['x'], outputs: ['y'], attributes: [attr.ints('perm', perm)] },
      ],
      inputs: [{ name: 'x', type }],
      outputs: [{ name: 'y', type }],
    });
    return runGraph(
      ctx,
      backend,
      `Transpose:${type}:${perm}`,
      build,
      [x],
      [{ shape, dtype: type }],
    )[0];
  },
};

/**
 * Tile (what `tf.broadcastTo` runs): tfjs-wasm's Tile computes every output index separately
 * (60 ms for 1M floats). A float32 broadcast (only dims of size 1 repeated) is x · ones on the
 * host, whose SIMD multiply broadcasts; any other tiling runs ONNX Tile, which copies rows.
 */
export const tile: AcceleratedKernel = {
  kernelName: 'Tile',
  run({ inputs, attrs, backend }, ctx) {
    const { x } = inputs as { x: TensorInfo };
    const { reps } = attrs as { reps: number[] };
    const rank = x.shape.length;
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || rank === 0 || reps.length !== rank) return undefined;
    if (reps.some((r) => !Number.isInteger(r) || r < 0)) return undefined;
    const shape = x.shape.map((d, i) => d * reps[i]!);
    const type = x.dtype;
    // Host kernels only, so no size threshold: faster than wasm's Tile at every size.
    if (type === 'float32' && reps.every((r, i) => r === 1 || x.shape[i] === 1)) {
      const ones = ctx.runHost('Fill', { inputs: {}, attrs: { shape, value: 1, dtype: 'float32' }, backend });
      const out = ctx.runHost('Multiply', { inputs: { a: x, b: ones }, backend });
      ctx.release(backend, ones);
      return out;
    }
    if (sizeOf(shape) < ctx.minElements) return undefined;
    const memory = ctx.memoryOf(backend);
    const out = memory.allocate(shape, type);
    const graph = ctx.sessions.get(`Tile:${type}`, () => ({
      nodes: [{ op: 'Tile', inputs: ['x', 'repeats'], outputs: ['y'] }],
      inputs: [
        { name: 'x', type },
        { name: 'repeats', type: 'int64' },
      ],
      outputs: [{ name: 'y', type }],
    }));
    if (sizeOf(shape) === 0) return out;
    graph.run(
      [
        { type, dims: x.shape, location: 'cpu', data: memory.view(x) },
        { type: 'int64', dims: [rank], location: 'cpu', data: BigInt64Array.from(reps, BigInt) },
      ],
      [{ type, dims: shape, location: 'cpu', data: memory.view(out) }],
    );
    return out;
  },
};

export const REDUCE_KERNELS: readonly AcceleratedKernel[] = [
  reduceKernel('Sum', 'ReduceSum', 'axis'),
  reduceKernel('Mean', 'ReduceMean', 'axis'),
  reduceKernel('Max', 'ReduceMax', 'reductionIndices'),
  reduceKernel('Min', 'ReduceMin', 'axis'),
  reduceKernel('Prod', 'ReduceProd', 'axis'),
  transpose,
  tile,
];
