/**
 * Training batches of contiguous windows at offsets drawn from (seed, step) alone, with core's
 * generator, so every method sees the same data in the same order and a resumed run the batches an
 * uninterrupted one would. Same sampling as core's `randomWindows`, for any token array width.
 */
import { generatorFor, tf, type LMBatch } from '@posenc/core';
import type { TokenArray } from './token-array.js';

export function trainWindows(
  tokens: TokenArray,
  batch: number,
  length: number,
  seed: number,
  step: number,
): LMBatch {
  if (tokens.length < length + 1)
    throw new Error(
      `trainWindows: the training split has ${tokens.length} tokens, fewer than length + 1 = ${length + 1}`,
    );
  const next = generatorFor(seed, step);
  const inputs = new Int32Array(batch * length);
  const targets = new Int32Array(batch * length);
  for (let b = 0; b < batch; b++) {
    const start = Math.floor(next() * (tokens.length - length));
    inputs.set(tokens.subarray(start, start + length), b * length);
    targets.set(tokens.subarray(start + 1, start + length + 1), b * length);
  }
  return {
    inputs: tf.tensor2d(inputs, [batch, length], 'int32'),
    targets: tf.tensor2d(targets, [batch, length], 'int32'),
    tokens: batch * length,
  };
}
