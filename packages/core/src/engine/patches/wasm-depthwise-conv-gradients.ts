import type * as tfType from '@tensorflow/tfjs';
import {
  depthwiseConvGeometry as geometry,
  type DepthwiseConvAttrs as ConvAttrs,
} from '../../nn/depthwise-conv-geometry.js';

type Conv2DInfo = tfType.backend_util.Conv2DInfo;

/**
 * tfjs-backend-wasm 4.22 has the depthwise convolution but neither of its gradients
 * (DepthwiseConv2dNativeBackpropFilter and …BackpropInput), so training a depthwise filter —
 * convSPE's FIR filters in `@posenc/spe-linear` — failed on wasm with "Kernel … not registered".
 * These are plain JS loops on the wasm heap over TF.js's own conv geometry (strides, dilations,
 * padding), as tfjs-backend-cpu computes them. The kernels engine runs both on ONNX Runtime.
 */
interface WasmBackendLike {
  readSync(dataId: unknown): ArrayLike<number>;
  makeOutput(shape: number[], dtype: string): tfType.TensorInfo;
  typedArrayFromHeap(info: tfType.TensorInfo): Float32Array | Int32Array;
}

/**
 * Calls `visit(xIndex, dyIndex, filterIndex)` for every (input, output, tap) triple of the
 * depthwise convolution, all NHWC, filter `[FH, FW, C, M]`, dy channels c·M + m.
 */
function eachTap(
  info: Conv2DInfo,
  visit: (xIndex: number, dyIndex: number, filterIndex: number) => void,
): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { dilationHeight, dilationWidth } = info;
  const { top, left } = info.padInfo;
  const multiplier = outChannels / inChannels;
  for (let n = 0; n < batchSize; n++)
    for (let oh = 0; oh < outHeight; oh++)
      for (let fh = 0; fh < filterHeight; fh++) {
        const ih = oh * strideHeight + fh * dilationHeight - top;
        if (ih < 0 || ih >= inHeight) continue;
        for (let ow = 0; ow < outWidth; ow++)
          for (let fw = 0; fw < filterWidth; fw++) {
            const iw = ow * strideWidth + fw * dilationWidth - left;
            if (iw < 0 || iw >= inWidth) continue;
            const xRow = ((n * inHeight + ih) * inWidth + iw) * inChannels;
            const dyRow = ((n * outHeight + oh) * outWidth + ow) * outChannels;
            const fRow = (fh * filterWidth + fw) * outChannels;
            for (let o = 0; o < outChannels; o++)
              visit(xRow + Math.floor(o / multiplier), dyRow + o, fRow + o);
          }
      }
}

/** Registers a gradient kernel on wasm that fills a zeroed output by visiting every tap. */
function registerLoop(
  tf: typeof tfType,
  kernelName: string,
  plan: (
    inputs: Record<string, tfType.TensorInfo>,
    attrs: ConvAttrs & { filterShape: number[]; inputShape: number[] },
  ) => { info: Conv2DInfo; shape: number[]; operands: [tfType.TensorInfo, tfType.TensorInfo] },
  accumulate: (
    out: Float32Array | Int32Array,
    a: ArrayLike<number>,
    b: ArrayLike<number>,
  ) => (xIndex: number, dyIndex: number, filterIndex: number) => void,
): void {
  if (tf.getKernel(kernelName, 'wasm') != null) return;
  tf.registerKernel({
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const wasm = backend as unknown as WasmBackendLike;
      const { info, shape, operands } = plan(
        inputs as Record<string, tfType.TensorInfo>,
        attrs as unknown as ConvAttrs & { filterShape: number[]; inputShape: number[] },
      );
      const out = wasm.makeOutput(shape, 'float32');
      // Read after the allocation, which may grow (and so move) the heap.
      const [a, b] = operands.map((t) => wasm.readSync(t.dataId));
      const values = wasm.typedArrayFromHeap(out);
      values.fill(0);
      eachTap(info, accumulate(values, a!, b!));
      return out;
    },
  });
}

export function installWasmDepthwiseConvGradients(tf: typeof tfType): void {
  // dW[tap, c·M + m] += x · dy: the filter index within a tap's row is dy's channel.
  registerLoop(
    tf,
    'DepthwiseConv2dNativeBackpropFilter',
    ({ x, dy }, a) => ({
      info: geometry(tf, x!.shape, a.filterShape, a),
      shape: a.filterShape,
      operands: [x!, dy!],
    }),
    (dw, xs, dys) => (xi, di, fi) => (dw[fi]! += xs[xi]! * dys[di]!),
  );
  // dx[n, i, j, c] += dy · filter over every output position and tap that reads it.
  registerLoop(
    tf,
    'DepthwiseConv2dNativeBackpropInput',
    ({ dy, filter }, a) => ({
      info: geometry(tf, a.inputShape, filter!.shape, a),
      shape: a.inputShape,
      operands: [dy!, filter!],
    }),
    (dx, dys, fs) => (xi, di, fi) => (dx[xi]! += dys[di]! * fs[fi]!),
  );
}
