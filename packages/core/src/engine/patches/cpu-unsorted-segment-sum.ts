import type * as tfType from '@tensorflow/tfjs';
import { unsortedSegmentSumValues } from './wasm-unsorted-segment-sum.js';

/**
 * tfjs-backend-cpu 4.22's UnsortedSegmentSum runs, for every segment, an equal, a cast, a
 * multiply and a sum over the whole input: O(segments × size) and four kernels per segment. The
 * gradient of `tf.gather` calls it with one segment per gathered-from row, so a gather from
 * `[B,H,L·nb]` (iRPE's contextual term: L·nb = 9,850 segments for DeiT-Tiny) or a large
 * vocabulary takes seconds. This kernel is the one pass the wasm patch makes, on cpu's arrays.
 */
interface CpuBackendLike {
  readSync(dataId: unknown): ArrayLike<number>;
  makeTensorInfo(
    shape: number[],
    dtype: string,
    values: Float32Array | Int32Array,
  ): tfType.TensorInfo;
}

export function installCpuUnsortedSegmentSum(tf: typeof tfType): void {
  const existing = tf.getKernel('UnsortedSegmentSum', 'cpu');
  if (existing?.kernelFunc === cpuUnsortedSegmentSum) return;
  if (existing) tf.unregisterKernel('UnsortedSegmentSum', 'cpu');
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'cpu',
    kernelFunc: cpuUnsortedSegmentSum,
  });
}

/** The kernel, exported so a test can tell it is the one registered. */
export const cpuUnsortedSegmentSum: tfType.KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, segmentIds } = inputs as { x: tfType.TensorInfo; segmentIds: tfType.TensorInfo };
  const { numSegments } = attrs as unknown as { numSegments: number };
  const cpu = backend as unknown as CpuBackendLike;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const size = outShape.reduce((a, b) => a * b, 1);
  const out = x.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
  unsortedSegmentSumValues(
    cpu.readSync(x.dataId),
    x.shape,
    cpu.readSync(segmentIds.dataId),
    numSegments,
    out,
  );
  return cpu.makeTensorInfo(outShape, x.dtype, out);
};
