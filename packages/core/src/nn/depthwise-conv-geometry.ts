/**
 * The geometry (output size, padding, strides) of a TF.js depthwise convolution from its
 * kernel attributes, as TF.js itself computes it: what the depthwise gradients core patches into
 * tfjs-backend-wasm and those `@posenc/kernels` runs on ONNX Runtime both start from.
 */
import type * as tfType from '@tensorflow/tfjs';

/** The attributes of DepthwiseConv2dNative and of its two gradient kernels. */
export interface DepthwiseConvAttrs {
  strides: [number, number] | number;
  dilations: [number, number] | number;
  pad: 'valid' | 'same' | number | tfType.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export function depthwiseConvGeometry(
  tf: Pick<typeof tfType, 'backend_util'>,
  inputShape: readonly number[],
  filterShape: readonly number[],
  a: DepthwiseConvAttrs,
): tfType.backend_util.Conv2DInfo {
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
