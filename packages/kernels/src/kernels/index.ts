/**
 * The kernels this package can run on ONNX Runtime, and the subset it does by default.
 *
 * The default set was chosen op by op with `npm run compare-kernels` (tfjs-wasm's kernel against
 * ours, each case in a fresh process, at the workloads' shapes; the table is in the README):
 * MLAS wins by far on matrix products (10–300×), and clearly on exp, tanh and erf (wasm calls
 * scalar libm), on reductions (wasm transposes first unless the axes are innermost), on
 * comparisons and on gathers. On arithmetic, casts, transposes, sigmoid, log, softplus and
 * select, tfjs-wasm's XNNPACK loops are as fast or 2–9× faster than ONNX Runtime's elementwise
 * kernels, so those stay on the host. Softmax ties (XNNPACK 4.5 ms, MLAS 4.2 ms with one thread
 * but 11 ms with two on a busy machine for [8,8,256,256]), so it stays on the host too, and so
 * does Concat (1.7 ms against 2.3 ms for two [8,8,256,32] halves). Some entries are not ONNX calls: Identity and same-dtype
 * Cast share data instead of copying it, UnsortedSegmentSum is a loop over the host's memory,
 * Pow with exponent 2 or 3 multiplies on the host, and a broadcasting Tile is a host multiply
 * by ones.
 */
import type { AcceleratedKernel } from './kernel-context.js';
import { batchMatMul, fusedMatMul } from './matmul.js';
import { softmax } from './softmax.js';
import { identity } from './identity.js';
import { castSharingOnly, ELEMENTWISE_KERNELS } from './elementwise.js';
import { REDUCE_KERNELS } from './reduce.js';
import { LAYOUT_KERNELS } from './layout.js';
import { gatherV2, unsortedSegmentSum } from './gather.js';

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
];

const DEFAULT_NAMES = new Set([
  'BatchMatMul',
  '_FusedMatMul',
  'Identity',
  'Exp',
  'Tanh',
  'Erf',
  'Pow',
  'Equal',
  'NotEqual',
  'Greater',
  'GreaterEqual',
  'Less',
  'LessEqual',
  'Sum',
  'Mean',
  'Max',
  'Min',
  'Prod',
  'GatherV2',
  'UnsortedSegmentSum',
  'Tile',
  'SplitV',
]);

/**
 * The kernels replaced by default: the winners above, plus Cast reduced to its zero-copy
 * same-dtype case (real conversions stay on the host, which is faster at them).
 */
export const DEFAULT_KERNELS: readonly AcceleratedKernel[] = [
  ...ACCELERATED_KERNELS.filter((k) => DEFAULT_NAMES.has(k.kernelName)),
  castSharingOnly,
];
