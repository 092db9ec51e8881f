/**
 * The vitest harness many test files share: run on the cpu backend (the reference), and fail
 * any test that leaves a tensor behind.
 */
import { afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { tf } from '../engine/tf.js';

export function onCpuWithoutLeaks(): void {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  let tensorsBefore = 0;
  beforeEach(() => {
    tensorsBefore = tf.memory().numTensors;
  });
  afterEach(() => {
    expect(tf.memory().numTensors, 'tensors leaked by the test').toBe(tensorsBefore);
  });
}
