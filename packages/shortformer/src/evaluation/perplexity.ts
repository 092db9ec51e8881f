/**
 * Per-token results of an evaluation. Perplexity is exp of the mean per-token negative
 * log-likelihood over every scored token, as fairseq's `eval_lm` reports it (there as
 * 2^(mean base-2 loss), the same number).
 */
import { tf, tokenNll } from '@posenc/core';

export interface PerplexityResult {
  /** NLL in nats of every predicted token: entry t is −log p(tokens[t+1] | context). */
  nll: Float64Array;
  /** Mean of `nll`, nats per token. */
  meanNll: number;
  /** exp(meanNll). */
  perplexity: number;
}

export function perplexityOf(nll: Float64Array): PerplexityResult {
  if (nll.length === 0) throw new Error('perplexity: no token was scored');
  let sum = 0;
  for (const v of nll) sum += v;
  const meanNll = sum / nll.length;
  return { nll, meanNll, perplexity: Math.exp(meanNll) };
}

/** Predictions of a stream of `tokens`: one per token but the last. */
export function predictionCount(tokens: ArrayLike<number>, who: string): number {
  if (tokens.length < 2)
    throw new Error(
      `${who}: the stream has ${tokens.length} tokens; at least 2 are needed to score one prediction`,
    );
  return tokens.length - 1;
}

/** `[rows, length]` inputs `tokens[start + i]` and targets `tokens[start + i + 1]` for each start. */
export function windowsAt(
  tokens: Int32Array,
  starts: readonly number[],
  length: number,
): { inputs: tf.Tensor2D; targets: tf.Tensor2D } {
  const inputs = new Int32Array(starts.length * length);
  const targets = new Int32Array(starts.length * length);
  starts.forEach((start, row) => {
    inputs.set(tokens.subarray(start, start + length), row * length);
    targets.set(tokens.subarray(start + 1, start + length + 1), row * length);
  });
  return {
    inputs: tf.tensor2d(inputs, [starts.length, length], 'int32'),
    targets: tf.tensor2d(targets, [starts.length, length], 'int32'),
  };
}

/** Per-token NLL `[B,N]` read back to the host; frees nothing it was given. */
export function nllValues(logits: tf.Tensor3D, targets: tf.Tensor2D): Float32Array {
  const nll = tokenNll(logits, targets);
  try {
    return nll.dataSync() as Float32Array;
  } finally {
    nll.dispose();
  }
}

export function assertPositiveInteger(who: string, field: string, value: number): void {
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${who}: ${field} = ${value} is not allowed; expected an integer ≥ 1`);
}
