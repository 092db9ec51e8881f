/**
 * Token streams for language modelling: byte-level tokens, the unigram entropy every model
 * must beat, and deterministic batches of contiguous windows.
 */
import { tf } from '../engine/tf.js';
import { generatorFor } from './random.js';

/** UTF-8 bytes as token ids in 0…255. */
export function byteTokens(text: string): Int32Array {
  return Int32Array.from(new TextEncoder().encode(text));
}

/**
 * Entropy of the empirical unigram distribution, in nats per token: the loss of the best model
 * that ignores context. A model that learned anything from context goes below it.
 */
export function unigramEntropy(tokens: ArrayLike<number>): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < tokens.length; i++) counts.set(tokens[i]!, (counts.get(tokens[i]!) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / tokens.length;
    h -= p * Math.log(p);
  }
  return h;
}

export interface LMBatch {
  /** `[B,N]` int32 inputs */
  inputs: tf.Tensor2D;
  /** `[B,N]` int32 next tokens */
  targets: tf.Tensor2D;
  tokens: number;
}

/**
 * Token ids in any integer typed array: a large corpus keeps its ids in the narrowest one its
 * vocabulary fits (a byte-level WikiText-103 is 0.5 GB as bytes, 2 GB as int32).
 */
export type TokenIds = Int32Array | Uint16Array | Uint8Array;

/**
 * `batch` windows of `length`+1 tokens at offsets drawn from (seed, step): inputs are the first
 * `length`, targets the last `length`. A function of (seed, step) alone, so every method sees
 * the same batches in the same order and a resumed run the ones an uninterrupted run would.
 */
export function randomWindows(
  tokens: TokenIds,
  batch: number,
  length: number,
  seed: number,
  step: number,
): LMBatch {
  if (tokens.length < length + 1)
    throw new Error(
      `randomWindows: the text has ${tokens.length} tokens, fewer than length + 1 = ${length + 1}`,
    );
  const next = generatorFor(seed, step);
  const starts = Array.from({ length: batch }, () => Math.floor(next() * (tokens.length - length)));
  return windowsAt(tokens, starts, length);
}

/**
 * One row per start: inputs `tokens[start … start+length)`, targets the same window shifted by
 * one. Every start must leave `length + 1` tokens.
 */
export function windowsAt(tokens: TokenIds, starts: readonly number[], length: number): LMBatch {
  const inputs = new Int32Array(starts.length * length);
  const targets = new Int32Array(starts.length * length);
  starts.forEach((start, row) => {
    if (!Number.isInteger(start) || start < 0 || start + length + 1 > tokens.length)
      throw new Error(
        `windowsAt: start = ${start} is not allowed; a window of ${length} + 1 tokens needs an integer start from 0 to ${tokens.length - length - 1} (the stream has ${tokens.length})`,
      );
    inputs.set(tokens.subarray(start, start + length), row * length);
    targets.set(tokens.subarray(start + 1, start + length + 1), row * length);
  });
  return {
    inputs: tf.tensor2d(inputs, [starts.length, length], 'int32'),
    targets: tf.tensor2d(targets, [starts.length, length], 'int32'),
    tokens: starts.length * length,
  };
}
