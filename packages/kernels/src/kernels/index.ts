/**
 * The kernels this package can run on ONNX Runtime, and the subset it does by default.
 *
 * The default set was chosen op by op with `npm run compare-kernels` (tfjs-wasm's kernel against
 * ours, each case in a fresh process, at the workloads' shapes; the table is in the README).
 * Since outputs are written in place (no copy, see `ort/binding.ts`), ONNX Runtime wins or ties
 * on every op measured: matrix products by 60–350×; exp, tanh, erf, comparisons, gathers and
 * reductions by 4–170× (wasm calls scalar libm and transposes before reducing); softmax by 4×;
 * arithmetic, transposes, splits and concats by 1.0–2.7× (two threads against one). The one
 * loss is Cast bool→float32 (0.81 ms against 0.73 ms on [8,256,2048]), so conversions stay on
 * the host. Some entries are not ONNX calls: Identity and same-dtype Cast share data instead of
 * copying it, UnsortedSegmentSum is a loop over the host's memory, Pow with exponent 2 or 3
 * multiplies on the host, a small broadcasting Tile is a host multiply by ones, and a Transpose
 * that moves only axes of length 1 shares its data. Fifteen are not TF.js kernels but core's
 * kernel contracts, each a whole computation in one run:
 * `PosencAdamWUpdate` (an AdamW step of one parameter), `PosencGelu`/`PosencGeluGrad`,
 * `PosencLayerNorm`/`PosencLayerNormGrad`, `PosencAttention`/`PosencAttentionGrad`,
 * `PosencCrossEntropy`/`PosencCrossEntropyGrad`, `PosencRotary` (RoPE's rotation),
 * `PosencRotaryAttention`/`PosencRotaryAttentionGrad` (RoPE and attention in one run),
 * `PosencModulatedProduct`/`PosencModulatedProductGrad` (sineSPE's filter), and two
 * are core contracts run as host loops like UnsortedSegmentSum: `PosencGatherLast` and
 * `PosencScatterAddLast` (iRPE's bucket reads).
 */
import type { AcceleratedKernel } from './kernel-context.js';
import { batchMatMul, fusedMatMul } from './matmul.js';
import { softmax } from './softmax.js';
import { identity } from './identity.js';
import { castSharingOnly, ELEMENTWISE_KERNELS } from './elementwise.js';
import { REDUCE_KERNELS } from './reduce.js';
import { LAYOUT_KERNELS } from './layout.js';
import { gatherV2, unsortedSegmentSum } from './gather.js';
import { gatherLast, scatterAddLast } from './gather-last.js';
import { adamWUpdate } from './adamw.js';
import { gelu, geluGrad } from './gelu.js';
import { layerNorm, layerNormGrad } from './layer-norm.js';
import { attention, attentionGrad } from './attention.js';
import { crossEntropy, crossEntropyGrad } from './cross-entropy.js';
import { rotary } from './rotary.js';
import { rotaryAttention, rotaryAttentionGrad } from './rotary-attention.js';
import { modulatedProduct, modulatedProductGrad } from './modulated-product.js';
import { depthwiseConvBackpropFilter, depthwiseConvBackpropInput } from './depthwise-conv.js';

/** Every ONNX-backed kernel, including those that lose to the host (for tests and measurements). */
export const ACCELERATED_KERNELS: readonly AcceleratedKernel[] = [
  batchMatMul,
  fusedMatMul,
  softmax,
  identity,
  ...ELEMENTWISE_KERNELS,
  ...REDUCE_KERNELS,
  ...LAYOUT_KERNELS,
  gatherV2,
  unsortedSegmentSum,
  gatherLast,
  scatterAddLast,
  adamWUpdate,
  gelu,
  geluGrad,
  layerNorm,
  layerNormGrad,
  attention,
  attentionGrad,
  crossEntropy,
  crossEntropyGrad,
  rotary,
  rotaryAttention,
  rotaryAttentionGrad,
  modulatedProduct,
  modulatedProductGrad,
  depthwiseConvBackpropFilter,
  depthwiseConvBackpropInput,
];

/**
 * The kernels replaced by default: all of them, with Cast reduced to its zero-copy same-dtype
 * case (real conversions stay on the host, which is slightly faster at them).
 */
export const DEFAULT_KERNELS: readonly AcceleratedKernel[] = [
  ...ACCELERATED_KERNELS.filter((k) => k.kernelName !== 'Cast'),
  castSharingOnly,
];
