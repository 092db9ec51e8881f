/**
 * Fixes for TensorFlow.js 4.22 gaps that training hits. TF.js is frozen upstream, so each
 * fix lives here, is installed once, and has a test that fails without it.
 */
import type * as tfType from '@tensorflow/tfjs';
import { installCumsumGradient } from './cumsum-gradient.js';
import { installComparisonGradients } from './comparison-gradients.js';
import { installWasmUnsortedSegmentSum } from './wasm-unsorted-segment-sum.js';
import { installCpuUnsortedSegmentSum } from './cpu-unsorted-segment-sum.js';
import { installReducingGradients } from './reducing-gradients.js';
import { installWasmDepthwiseConvGradients } from './wasm-depthwise-conv-gradients.js';

let installed = false;

export function installPatches(tf: typeof tfType): void {
  if (installed) return;
  installed = true;
  installCumsumGradient(tf);
  installComparisonGradients(tf);
  installWasmUnsortedSegmentSum(tf);
  installCpuUnsortedSegmentSum(tf);
  installReducingGradients(tf);
  installWasmDepthwiseConvGradients(tf);
}
