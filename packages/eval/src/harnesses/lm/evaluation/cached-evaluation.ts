/**
 * Evaluation of a model trained with Shortformer's cache, in both modes, with its cache (Press et
 * al. 2021, §5.3: how PIA + cache models are evaluated). The windows of the mode run in order
 * and each one also attends to the cached states of the L′ tokens before it, computed when those
 * tokens were in an earlier window:
 *
 * - nonoverlapping: blocks of L, each seeing the previous block, so a prediction has
 *   L′+1…L′+L tokens of context;
 * - sliding window: windows of L advancing by S, each seeing the L′ tokens before it and scoring
 *   its last S, so a scored prediction has at least L′ + L − S tokens of context.
 *
 * Segments of equal length are independent streams with the same windows and run side by side
 * as batch rows. The cache of a segment's first window holds the last L′ tokens of its `context`
 * (the stream just before the segment), so that window is scored as it would be partway through
 * the stream, as the paper evaluates; without a context (the stream's start) the cache starts
 * empty. Unscored: the context only fills the cache.
 */
import { tf, tokenNll, type DecoderLM } from '@posenc/core';
import type { SubsequenceCache } from '@posenc/shortformer';
import type { TokenArray } from '../data/token-array.js';
import { perplexityResult, type PerplexityResult, type PerplexitySpec } from './perplexity.js';
import { windowsFor } from './windows.js';

/** What this needs of @posenc/shortformer's `SubsequenceCache`. */
export type BlockCache = Pick<SubsequenceCache, 'forward' | 'dispose'>;

export async function evaluateWithCache(
  model: DecoderLM,
  segments: readonly TokenArray[],
  spec: PerplexitySpec,
  createCache: () => BlockCache,
  contexts?: readonly TokenArray[],
): Promise<PerplexityResult> {
  const started = performance.now();
  const { length } = spec;
  if (contexts && contexts.length !== segments.length)
    throw new Error(
      `evaluateWithCache: ${contexts.length} contexts for ${segments.length} segments; give one per segment`,
    );
  // Rows run side by side: the same span and the same context length.
  const groups = new Map<string, { span: number; rows: TokenArray[]; contexts: TokenArray[] }>();
  segments.forEach((segment, i) => {
    const context = (contexts?.[i] ?? segment.subarray(0, 0)).subarray(-length);
    const key = `${segment.length}:${context.length}`;
    const group = groups.get(key) ?? { span: segment.length, rows: [], contexts: [] };
    group.rows.push(segment);
    group.contexts.push(context);
    groups.set(key, group);
  });
  let nll = 0;
  let tokens = 0;
  for (const group of groups.values()) {
    const windows = windowsFor(spec.mode, group.span - 1, length, spec.stride);
    // The cache doubles the keys: rows × (L′ + L) tokens per call stay within the memory bound.
    const rowsPerCall = Math.max(1, Math.floor(spec.maxBatchTokens / (2 * length)));
    for (let first = 0; first < group.rows.length; first += rowsPerCall) {
      const rows = group.rows.slice(first, first + rowsPerCall);
      const cache = createCache();
      try {
        const context = group.contexts.slice(first, first + rowsPerCall);
        if (context[0]!.length > 0) fillCache(model, cache, context);
        for (const [k, window] of windows.entries()) {
          const { start, length: size, scoreFrom } = window;
          const inputs = new Int32Array(rows.length * size);
          const next = new Int32Array(rows.length * size);
          rows.forEach((segment, b) => {
            inputs.set(segment.subarray(start, start + size), b * size);
            next.set(segment.subarray(start + 1, start + 1 + size), b * size);
          });
          const x = tf.tensor2d(inputs, [rows.length, size], 'int32');
          const y = tf.tensor2d(next, [rows.length, size], 'int32');
          try {
            const nextStart = (windows[k + 1]?.start ?? start + size) - start;
            const logits = cache.forward(model, x, { nextStart });
            const values = tf.tidy(() => tokenNll(logits, y));
            logits.dispose();
            const data = await values.data();
            values.dispose();
            for (let b = 0; b < rows.length; b++)
              for (let i = scoreFrom; i < size; i++) nll += data[b * size + i]!;
            tokens += rows.length * (size - scoreFrom);
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

/** Runs the context tokens through the model only for the states the cache keeps of them. */
function fillCache(model: DecoderLM, cache: BlockCache, contexts: readonly TokenArray[]): void {
  const size = contexts[0]!.length;
  const values = new Int32Array(contexts.length * size);
  contexts.forEach((c, b) => values.set(c, b * size));
  const x = tf.tensor2d(values, [contexts.length, size], 'int32');
  try {
    cache.forward(model, x).dispose();
  } finally {
    x.dispose();
  }
}
