/**
 * The two gradients of a depthwise convolution, which tfjs-backend-wasm does not have (core now
 * patches it with JS loops): without them, training anything with `tf.depthwiseConv2d` on the
 * kernels engine (convSPE's FIR filters in `@posenc/spe-linear`) failed with "Kernel
 * 'DepthwiseConv2dNativeBackpropFilter' not registered". Each is one ONNX Runtime run (stride 1,
 * dilation 1, any padding TF.js resolves; other strides are left to the host's kernel):
 *
 * - the filter's gradient, dW[fh, fw, c, m] = Σ_{n, i, j} x[n, i + fh − top, j + fw − left, c] ·
 *   dy[n, i, j, c·M + m], is a grouped Conv whose batch is 1 and whose input channels are the
 *   (channel, batch row) pairs of x, `[1, C·N, H, W]`, with dy as the kernel `[C·M, N, OH, OW]`
 *   (group C): the kernel spans the whole output and the result is the filter's size;
 * - the input's gradient is the adjoint of the forward convolution: ConvTranspose of dy with the
 *   filter as `[C·M, 1, FH, FW]` (group C) and the forward's pads.
 */
import { depthwiseConvGeometry, tf, type DepthwiseConvAttrs as ConvAttrs } from '@posenc/core';
import { attr, type OnnxGraph } from '../onnx/model.js';
import { int64Tensor as int64s, onnxNode as node } from '../onnx/nodes.js';
import { runGraph, type AcceleratedKernel } from './kernel-context.js';

type TensorInfo = tf.TensorInfo;

const ones = (v: [number, number] | number | undefined) =>
  v === undefined || (Array.isArray(v) ? v.every((x) => x === 1) : v === 1);

/** The forward convolution's pads, [top, left, bottom, right], when this file handles it. */
function padsOf(
  inputShape: readonly number[],
  filterShape: readonly number[],
  a: ConvAttrs,
): { pads: number[]; out: [number, number] } | undefined {
  if (!ones(a.strides) || !ones(a.dilations)) return undefined;
  const info = depthwiseConvGeometry(tf, inputShape, filterShape, a);
  const p = info.padInfo;
  if ([p.top, p.left, p.bottom, p.right].some((v) => v < 0)) return undefined;
  return { pads: [p.top, p.left, p.bottom, p.right], out: [info.outHeight, info.outWidth] };
}

function filterGradientGraph(pads: number[], groups: number, shape: number[]): OnnxGraph {
  const [fh, fw, c, m] = shape as [number, number, number, number];
  return {
    nodes: [
      node('Transpose', ['x'], 'x_cnhw', [attr.ints('perm', [3, 0, 1, 2])]),
      node('Reshape', ['x_cnhw', 'x_shape'], 'x_grouped'),
      node('Transpose', ['dy'], 'dy_kernel', [attr.ints('perm', [3, 0, 1, 2])]),
      node('Conv', ['x_grouped', 'dy_kernel'], 'dw_nchw', [
        attr.int('group', groups),
        attr.ints('pads', [pads[0]!, pads[1]!, pads[2]!, pads[3]!]),
      ]),
      node('Transpose', ['dw_nchw'], 'dw_hwc', [attr.ints('perm', [0, 2, 3, 1])]),
      node('Reshape', ['dw_hwc', 'dw_shape'], 'dw'),
    ],
    // [1, C·N, H, W]: the batch rows become each channel's input channels.
    initializers: [int64s('x_shape', [1, -1, 0, 0]), int64s('dw_shape', [fh, fw, c, m])],
    inputs: [
      { name: 'x', type: 'float32' },
      { name: 'dy', type: 'float32' },
    ],
    outputs: [{ name: 'dw', type: 'float32' }],
  };
}

function inputGradientGraph(pads: number[], groups: number): OnnxGraph {
  return {
    nodes: [
      node('Transpose', ['dy'], 'dy_nchw', [attr.ints('perm', [0, 3, 1, 2])]),
      // [FH, FW, C, M] → [C, M, FH, FW] → [C·M, 1, FH, FW].
      node('Transpose', ['filter'], 'filter_cm', [attr.ints('perm', [2, 3, 0, 1])]),
      node('Reshape', ['filter_cm', 'filter_shape'], 'kernel'),
      node('ConvTranspose', ['dy_nchw', 'kernel'], 'dx_nchw', [
        attr.int('group', groups),
        attr.ints('pads', [pads[0]!, pads[1]!, pads[2]!, pads[3]!]),
      ]),
      node('Transpose', ['dx_nchw'], 'dx', [attr.ints('perm', [0, 2, 3, 1])]),
    ],
    initializers: [int64s('filter_shape', [-1, 1, 0, 0])],
    inputs: [
      { name: 'dy', type: 'float32' },
      { name: 'filter', type: 'float32' },
    ],
    outputs: [{ name: 'dx', type: 'float32' }],
  };
}

export const depthwiseConvBackpropFilter: AcceleratedKernel = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  run({ inputs, attrs, backend }, ctx) {
    const { x, dy } = inputs as Record<'x' | 'dy', TensorInfo>;
    const a = attrs as unknown as ConvAttrs & { filterShape: number[] };
    if (x.dtype !== 'float32' || dy.dtype !== 'float32' || x.shape.length !== 4) return undefined;
    const plan = padsOf(x.shape, a.filterShape, a);
    if (!plan) return undefined;
    const channels = x.shape[3]!;
    return runGraph(
      ctx,
      backend,
      `DepthwiseConv2dNativeBackpropFilter:${plan.pads}:${a.filterShape}`,
      () => filterGradientGraph(plan.pads, channels, a.filterShape),
      [x, dy],
      [{ shape: a.filterShape, dtype: 'float32' }],
    )[0];
  },
};

export const depthwiseConvBackpropInput: AcceleratedKernel = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  run({ inputs, attrs, backend }, ctx) {
    const { dy, filter } = inputs as Record<'dy' | 'filter', TensorInfo>;
    const a = attrs as unknown as ConvAttrs & { inputShape: number[] };
    if (dy.dtype !== 'float32' || filter.dtype !== 'float32' || filter.shape.length !== 4)
      return undefined;
    const plan = padsOf(a.inputShape, filter.shape, a);
    if (!plan) return undefined;
    const channels = filter.shape[2]!;
    return runGraph(
      ctx,
      backend,
      `DepthwiseConv2dNativeBackpropInput:${plan.pads}:${channels}`,
      () => inputGradientGraph(plan.pads, channels),
      [dy, filter],
      [{ shape: a.inputShape, dtype: 'float32' }],
    )[0];
  },
};
