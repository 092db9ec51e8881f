/**
 * Identity without a copy on the wasm host. tfjs-backend-wasm copies the data, and TF.js calls
 * Identity for every tensor `customGrad` saves for the backward pass (each fused matmul saves its
 * inputs and output), so training copied megabytes per layer for nothing. Tensors are immutable,
 * so the output can share the input's data with one more reference, as wasm's own Reshape and
 * tfjs-backend-cpu's Identity do.
 */
import type { tf } from '@posenc/core';
import type { AcceleratedKernel } from './kernel-context.js';

interface RefCountingBackend {
  incRef(dataId: object): void;
}

export const identity: AcceleratedKernel = {
  kernelName: 'Identity',
  run({ inputs, backend }) {
    const { x } = inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return undefined;
    (backend as RefCountingBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  },
};
