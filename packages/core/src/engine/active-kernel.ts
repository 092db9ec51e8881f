/**
 * Whether the active backend registers a kernel: how core's computations with a kernel
 * contract choose between an engine's kernel and their composite TF.js ops.
 */
import { tf } from './tf.js';

export function activeBackendHas(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}
