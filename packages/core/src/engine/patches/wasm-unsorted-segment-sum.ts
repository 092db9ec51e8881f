import type * as tfType from '@tensorflow/tfjs';

/**
 * tfjs-backend-wasm 4.22 has no UnsortedSegmentSum kernel, and the gradient of `tf.gather`
 * (every embedding lookup) calls it, so embedding training fails on wasm. This is a plain JS
 * kernel on the wasm heap, in the style of wasm's own Range kernel.
 */
interface WasmBackendLike {
  readSync(dataId: unknown): ArrayLike<number>;
  makeOutput(shape: number[], dtype: string): tfType.TensorInfo;
  typedArrayFromHeap(info: tfType.TensorInfo): Float32Array | Int32Array;
}

export function unsortedSegmentSumValues(
  x: ArrayLike<number>,
  xShape: number[],
  segmentIds: ArrayLike<number>,
  numSegments: number,
  out: Float32Array | Int32Array,
): void {
  // segmentIds index the leading dims of x (ids.rank ≤ x.rank); the rest is one row per id.
  const rowSize =
    segmentIds.length === 0 ? 0 : xShape.reduce((a, b) => a * b, 1) / segmentIds.length;
  out.fill(0);
  for (let i = 0; i < segmentIds.length; i++) {
    const seg = segmentIds[i]!;
    if (seg < 0 || seg >= numSegments) continue; // TF drops out-of-range ids
    const src = i * rowSize;
    const dst = seg * rowSize;
    for (let j = 0; j < rowSize; j++) out[dst + j]! += x[src + j]!;
  }
}

export function installWasmUnsortedSegmentSum(tf: typeof tfType): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm') != null) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, segmentIds } = inputs as { x: tfType.TensorInfo; segmentIds: tfType.TensorInfo };
      const { numSegments } = attrs as unknown as { numSegments: number };
      const wasm = backend as unknown as WasmBackendLike;
      const idsRank = segmentIds.shape.length;
      const outShape = [numSegments, ...x.shape.slice(idsRank)];
      const out = wasm.makeOutput(outShape, x.dtype);
      unsortedSegmentSumValues(
        wasm.readSync(x.dataId),
        x.shape,
        wasm.readSync(segmentIds.dataId),
        numSegments,
        wasm.typedArrayFromHeap(out),
      );
      return out;
    },
  });
}
