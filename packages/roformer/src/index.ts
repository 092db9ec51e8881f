/**
 * @posenc/roformer — the RoPE family (Su et al. 2021) and the RoFormer model for TensorFlow.js.
 * Importing it registers the `rope` encoding with @posenc/core. This entry runs in any
 * JavaScript runtime; Node resolves the package to `./index.node.ts`, which adds HF files on disk.
 */
import { registerEncoding } from '@posenc/core';
import { ropeDefinition } from './encoding/rope-encoding.js';

export * from './rope/frequencies.js';
export * from './rope/layout.js';
export * from './rope/coordinates.js';
export * from './rope/angle-tables.js';
export * from './rope/rotary-kernel.js';
export * from './rope/simd-rotation.js';
export * from './rope/apply-rope.js';
export * from './encoding/rope-encoding.js';
export * from './roformer/config.js';
export * from './roformer/model.js';
export * from './roformer/qk-layout.js';
export * from './roformer/hf-weights.js';

registerEncoding(ropeDefinition);
