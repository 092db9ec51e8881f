/**
 * @posenc/kernels — a fast CPU engine for TensorFlow.js: the hot kernels run on ONNX Runtime's
 * MLAS (from onnxruntime-node, nothing downloaded), the rest on tfjs-backend-wasm. Importing
 * this package registers the engine with @posenc/core, whose `initEngine()` then picks it.
 */
import { registerKernelsEngine } from './engine-provider.js';

registerKernelsEngine();

export {
  createKernelsEngineProvider,
  kernelsEngineProvider,
  registerKernelsEngine,
} from './engine-provider.js';
export {
  BACKEND_NAME,
  kernelsBackendInfo,
  registerKernelsBackend,
  type KernelsBackendInfo,
  type KernelsBackendOptions,
} from './backend.js';
export { PINNED_ORT_VERSION } from './ort/binding.js';
export { ACCELERATED_KERNELS, DEFAULT_KERNELS } from './kernels/index.js';
export type { AcceleratedKernel } from './kernels/kernel-context.js';
export type { HostName } from './host/host-memory.js';
