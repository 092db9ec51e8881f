/** Leak checks: what a call leaves in `tf.memory().numTensors`. */
import { tf } from '../engine/tf.js';

/** Runs `f` and throws when the number of live tensors differs afterwards; returns what `f` returns. */
export function expectNoTensorLeaks<T>(f: () => T, label = 'the call'): T {
  const before = tf.memory().numTensors;
  const result = f();
  const after = tf.memory().numTensors;
  if (after !== before)
    throw new Error(
      `${label} ${after > before ? 'leaked' : 'freed'} ${Math.abs(after - before)} tensor(s): ${before} before, ${after} after`,
    );
  return result;
}
