/**
 * Embedding lookups and their gradient: GatherV2 on ONNX Gather, UnsortedSegmentSum as a loop
 * over the host's memory.
 *
 * Out-of-range ids behave differently in TF.js (an error for Gather) and ONNX (negative ids
 * wrap, others fail), so ids are checked here and any out-of-range id sends the call to the host
 * kernel, which keeps TF.js's behaviour.
 */
import type { tf } from '@posenc/core';
import { attr, type OnnxGraph } from '../onnx/model.js';
import { runGraph, sizeOf, type AcceleratedKernel, type KernelContext } from './kernel-context.js';

type TensorInfo = tf.TensorInfo;

function idsInRange(ctx: KernelContext, backend: unknown, ids: TensorInfo, limit: number): boolean {
  const values = ctx.memoryOf(backend).view(ids);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < 0 || v >= limit) return false;
  }
  return true;
}

export const gatherV2: AcceleratedKernel = {
  kernelName: 'GatherV2',
  run({ inputs, attrs, backend }, ctx) {
    const { x, indices } = inputs as { x: TensorInfo; indices: TensorInfo };
    const { axis: rawAxis, batchDims } = attrs as { axis: number; batchDims: number };
    const rank = x.shape.length;
    if (
      batchDims !== 0 ||
      indices.dtype !== 'int32' ||
      (x.dtype !== 'float32' && x.dtype !== 'int32') ||
      rank === 0
    )
      return undefined;
    const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
    if (!Number.isInteger(axis) || axis < 0 || axis >= rank) return undefined;
    const shape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
    if (sizeOf(shape) < ctx.minElements || !idsInRange(ctx, backend, indices, x.shape[axis]!))
      return undefined;
    const type = x.dtype;
    const build = (): OnnxGraph => ({
      nodes: [
        {
          op: 'Gather',
          inputs: ['x', 'ids'],
          outputs: ['y'],
          attributes: [attr.int('axis', axis)],
        },
      ],
      inputs: [
        { name: 'x', type },
        { name: 'ids', type: 'int32' },
      ],
      outputs: [{ name: 'y', type }],
    });
    return runGraph(
      ctx,
      backend,
      `GatherV2:${type}:${axis}`,
      build,
      [x, indices],
      [{ shape, dtype: type }],
    )[0];
  },
};

/**
 * The gather gradient. A plain loop over zero-copy views of the host's memory: measured faster
 * than ONNX ScatterElements(reduction = add) (which must expand the ids to x's shape first) and
 * than core's wasm patch, which copies x and the ids out of the heap before looping.
 */
export const unsortedSegmentSum: AcceleratedKernel = {
  kernelName: 'UnsortedSegmentSum',
  run({ inputs, attrs, backend }, ctx) {
    const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const { numSegments } = attrs as { numSegments: number };
    if (
      x.dtype !== 'float32' ||
      segmentIds.dtype !== 'int32' ||
      !Number.isInteger(numSegments) ||
      numSegments < 0
    )
      return undefined;
    const idsRank = segmentIds.shape.length;
    if (idsRank === 0 || segmentIds.shape.some((d, i) => d !== x.shape[i])) return undefined;
    const rowShape = x.shape.slice(idsRank);
    const rowSize = sizeOf(rowShape);
    const memory = ctx.memoryOf(backend);
    const out = memory.allocate([numSegments, ...rowShape], 'float32');
    // Views after the allocation: it may have moved the wasm heap.
    const values = memory.view(x);
    const ids = memory.view(segmentIds);
    const sums = memory.view(out);
    sums.fill(0);
    for (let i = 0; i < ids.length; i++) {
      const segment = ids[i]!;
      if (segment < 0 || segment >= numSegments) continue; // TF drops out-of-range ids
      const from = i * rowSize;
      const to = segment * rowSize;
      for (let j = 0; j < rowSize; j++) sums[to + j]! += values[from + j]!;
    }
    return out;
  },
};
