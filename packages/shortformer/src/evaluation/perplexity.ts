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
