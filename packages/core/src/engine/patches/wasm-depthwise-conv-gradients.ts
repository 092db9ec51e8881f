import type * as tfType from '@tensorflow/tfjs';

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

interface ConvAttrs {
  strides: [number, number] | number;
  dilations: [number, number] | number;
  pad: 'valid' | 'same' | number | tfType.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

type Conv2DInfo = tfType.backend_util.Conv2DInfo;

function geometry(
  tf: typeof tfType,
  inputShape: number[],
  filterShape: number[],
  a: ConvAttrs,
): Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    true,
  );
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

export function installWasmDepthwiseConvGradients(tf: typeof tfType): void {
  if (tf.getKernel('DepthwiseConv2dNativeBackpropFilter', 'wasm') == null)
    tf.registerKernel({
      kernelName: 'DepthwiseConv2dNativeBackpropFilter',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const { x, dy } = inputs as { x: tfType.TensorInfo; dy: tfType.TensorInfo };
        const a = attrs as unknown as ConvAttrs & { filterShape: number[] };
        const wasm = backend as unknown as WasmBackendLike;
        const info = geometry(tf, x.shape, a.filterShape, a);
        const out = wasm.makeOutput(a.filterShape, 'float32');
        const xs = wasm.readSync(x.dataId);
        const dys = wasm.readSync(dy.dataId);
        const dw = wasm.typedArrayFromHeap(out);
        dw.fill(0);
        // The filter index is c·M + m within a tap's row, the same as dy's channel.
        eachTap(info, (xi, di, fi) => (dw[fi]! += xs[xi]! * dys[di]!));
        return out;
      },
    });
  if (tf.getKernel('DepthwiseConv2dNativeBackpropInput', 'wasm') == null)
    tf.registerKernel({
      kernelName: 'DepthwiseConv2dNativeBackpropInput',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const { dy, filter } = inputs as { dy: tfType.TensorInfo; filter: tfType.TensorInfo };
        const a = attrs as unknown as ConvAttrs & { inputShape: number[] };
        const wasm = backend as unknown as WasmBackendLike;
        const info = geometry(tf, a.inputShape, filter.shape, a);
        const out = wasm.makeOutput(a.inputShape, 'float32');
        const dys = wasm.readSync(dy.dataId);
        const fs = wasm.readSync(filter.dataId);
        const dx = wasm.typedArrayFromHeap(out);
        dx.fill(0);
        eachTap(info, (xi, di, fi) => (dx[xi]! += dys[di]! * fs[fi]!));
        return out;
      },
    });
}
