/**
 * The one door to TensorFlow.js for the whole project.
 *
 * We import the union package `@tensorflow/tfjs` (not `tfjs-core`): its Node bundle registers
 * gradients and chained ops, and importing it from one module keeps a single engine instance
 * and kernel registry. Our patches for TF.js 4.22 gaps are installed on first import.
 */
import * as tf from '@tensorflow/tfjs';
import { installPatches } from './patches/index.js';

installPatches(tf);
// Production mode silences TF.js's "install tfjs-node" banner; our engine line says what runs.
tf.env().set('PROD', true);

export { tf };
export type { Tensor, Variable, Scalar, Rank } from '@tensorflow/tfjs';
