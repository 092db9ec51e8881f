/**
 * Nonoverlapping evaluation with Shortformer's cache (Press et al. 2021, §5.3: how PIA + cache
 * models are evaluated): blocks of L run in order, each attending to the cached states of the
 * previous L′ tokens, so a prediction has L′+1…L′+L tokens of context. Segments of equal length
 * are independent streams and run side by side as batch rows; the cache starts empty in each.
 */
import { tf, tokenNll, type DecoderLM } from '@posenc/core';
import type { SubsequenceCache } from '@posenc/shortformer';
import type { TokenArray } from '../data/token-array.js';
import { perplexityResult, type PerplexityResult, type PerplexitySpec } from './perplexity.js';

/** What this needs of @posenc/shortformer's `SubsequenceCache`. */
export type BlockCache = Pick<SubsequenceCache, 'forward' | 'dispose'>;

export async function evaluateWithCache(
  model: DecoderLM,
  segments: readonly TokenArray[],
  spec: PerplexitySpec,
  createCache: () => BlockCache,
): Promise<PerplexityResult> {
  const started = performance.now();
  const { length } = spec;
  const byLength = new Map<number, TokenArray[]>();
  for (const s of segments) byLength.set(s.length, [...(byLength.get(s.length) ?? []), s]);
  let nll = 0;
  let tokens = 0;
  for (const [span, group] of byLength) {
    const targets = span - 1;
    // The cache doubles the keys: rows × (L′ + L) tokens per call stay within the memory bound.
    const rowsPerCall = Math.max(1, Math.floor(spec.maxBatchTokens / (2 * length)));
    for (let first = 0; first < group.length; first += rowsPerCall) {
      const rows = group.slice(first, first + rowsPerCall);
      const cache = createCache();
      try {
        for (let start = 0; start < targets; start += length) {
          const size = Math.min(length, targets - start);
          const inputs = new Int32Array(rows.length * size);
          const next = new Int32Array(rows.length * size);
          rows.forEach((segment, b) => {
            inputs.set(segment.subarray(start, start + size), b * size);
            next.set(segment.subarray(start + 1, start + 1 + size), b * size);
          });
          const x = tf.tensor2d(inputs, [rows.length, size], 'int32');
          const y = tf.tensor2d(next, [rows.length, size], 'int32');
          try {
            const logits = cache.forward(model, x);
            const values = tf.tidy(() => tokenNll(logits, y));
            logits.dispose();
            const data = await values.data();
            values.dispose();
            for (let i = 0; i < data.length; i++) nll += data[i]!;
            tokens += data.length;
          } finally {
            tf.dispose([x, y]);
          }
        }
      } finally {
        cache.dispose();
      }
    }
  }
  return perplexityResult(spec, nll, tokens, performance.now() - started);
}
