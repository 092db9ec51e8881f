/**
 * Unshuffled batches in which each batch row is one contiguous stream, so that the
 * subsequence a row reads at step t+1 follows the one it read at step t and a cache of step t is
 * the true previous context. The corpus is cut into B contiguous parts read side by side, like
 * the classic RNN-LM `batchify` (ofirpress/shortformer rewrites fairseq's `ShardedIterator` this
 * way and disables shuffling with `--curriculum 1000` and `shuffle=False`).
 */
import { windowsAt, type LMBatch } from '@posenc/core';

export interface StreamLayout {
  /** Rows B: the corpus is cut into B contiguous parts. */
  readonly rows: number;
  /** Subsequence length L. */
  readonly length: number;
  /** Tokens in each row's part (the first `rows · partLength` tokens are used). */
  readonly partLength: number;
  /** Steps in one pass over the data: ⌊(partLength − 1) / L⌋ (each input needs its next token). */
  readonly stepsPerEpoch: number;
}

/** How `tokens` split into `rows` streams read `length` tokens at a time; throws if an epoch would be empty. */
export function streamLayout(corpusLength: number, rows: number, length: number): StreamLayout {
  for (const [field, value] of [
    ['rows', rows],
    ['length', length],
  ] as const)
    if (!Number.isInteger(value) || value < 1)
      throw new Error(
        `contiguous streams: ${field} = ${value} is not allowed; expected an integer ≥ 1`,
      );
  const partLength = Math.floor(corpusLength / rows);
  const stepsPerEpoch = Math.floor((partLength - 1) / length);
  if (stepsPerEpoch < 1)
    throw new Error(
      `contiguous streams: ${corpusLength} tokens cut into ${rows} rows give ${partLength} tokens per row, fewer than length + 1 = ${length + 1}; use fewer rows, a shorter length or more text`,
    );
  return { rows, length, partLength, stepsPerEpoch };
}

export interface StreamBatch extends LMBatch {
  /** Pass over the data this batch belongs to (0-based). */
  epoch: number;
  /** True for the first batch of an epoch: the cache must be cleared before it. */
  epochStart: boolean;
}

/**
 * The `index`-th batch of the streams (`index` counts from 0 across epochs): row b reads
 * `tokens[b·partLength + s·L … + L]` with s = index mod stepsPerEpoch; targets are shifted by one.
 */
export function streamBatch(tokens: Int32Array, layout: StreamLayout, index: number): StreamBatch {
  if (!Number.isInteger(index) || index < 0)
    throw new Error(`streamBatch: index = ${index} is not allowed; expected an integer ≥ 0`);
  const { rows, length, partLength, stepsPerEpoch } = layout;
  if (tokens.length < rows * partLength)
    throw new Error(
      `streamBatch: the layout needs ${rows * partLength} tokens, the corpus has ${tokens.length}`,
    );
  const epoch = Math.floor(index / stepsPerEpoch);
  const within = index % stepsPerEpoch;
  const starts = Array.from({ length: rows }, (_, row) => row * partLength + within * length);
  return {
    ...windowsAt(tokens, starts, length),
    epoch,
    epochStart: within === 0,
  };
}
