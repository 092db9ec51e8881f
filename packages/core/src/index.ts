/**
 * @posenc/core — attention with position hooks, reference encodings, models, trainer and
 * safetensors I/O for TensorFlow.js. Importing it registers the reference encodings.
 *
 * This entry runs in any JavaScript runtime (browsers included): nothing here imports from
 * Node. Node resolves `@posenc/core` to `./index.node.ts`, which adds file and directory I/O.
 */
export { tf } from './engine/tf.js';
export {
  initEngine,
  selectEngine,
  currentEngine,
  registerEngineProvider,
  parseEngineName,
  ENGINE_NAMES,
  type EngineName,
  type EngineChoice,
  type EngineProvider,
  type InitEngineOptions,
} from './engine/select.js';
export { cumsum } from './ops/cumsum.js';
export { stopGradient } from './ops/stop-gradient.js';

export * from './positions/positions.js';
export * from './encoding/position-encoding.js';
export * from './encoding/parameter-scopes.js';
export * from './encoding/registry.js';
export * from './config/schema.js';
export * from './encodings/index.js';

export * from './attention/masks.js';
export * from './attention/scaled-dot-product.js';
export * from './attention/softmax-attention.js';
export * from './attention/fused-rotation.js';
export * from './attention/linear-attention.js';
export * from './attention/favor-plus.js';
export * from './attention/multi-head-attention.js';

export * from './nn/init.js';
export * from './nn/layers.js';
export { GELU_GRAD_KERNEL, GELU_KERNEL, geluGradient } from './nn/gelu.js';
export * from './nn/gather-last.js';
export * from './nn/layer-norm.js';
export * from './nn/modulated-product.js';
export * from './nn/depthwise-conv-geometry.js';
export * from './nn/cross-entropy.js';
export * from './nn/rotary-kernel.js';
export * from './models/transformer-layer.js';
export * from './models/transformer-body.js';
export * from './models/transformer-config.js';
export * from './models/call-inputs.js';
export * from './models/encodings-in-model.js';
export * from './models/decoder-lm.js';
export * from './models/encoder.js';
export * from './models/vit.js';

export * from './data/random.js';
export * from './data/language-modelling.js';
export * from './training/index.js';
export {
  SAFETENSORS_DTYPES,
  SafetensorsError,
  decodeToFloat32,
  dtypeBits,
  encodeTensorEntry,
  isSafetensorsDtype,
  parseHeader,
  parseSafetensors,
  serializeSafetensors,
  type EncodableDtype,
  type ReadSafetensorsOptions,
  type SafetensorsContents,
  type SafetensorsDtype,
  type SafetensorsErrorKind,
  type SafetensorsHeader,
  type TensorEntry,
  type TensorHeaderEntry,
} from './io/safetensors.js';
export { readSafetensors, type SafetensorsSource } from './io/safetensors-source.js';
