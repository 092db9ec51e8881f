/**
 * Shortformer's cache (Press, Smith & Lewis 2021, §5.2): every layer keeps its normalised
 * inputs of the previous subsequence (`self.prev_out` in ofirpress/shortformer's
 * `transformer_layer.py`), with no gradient through them, and the next subsequence attends to
 * them as extra keys/values. Positions are relabelled at every step (see `windowPositions`),
 * and cached keys are fully visible to every query (`cat(zeros(L, L′), causal_mask)`), which
 * is what core's causal mask does with keys beyond the query count placed first.
 *
 * Data must not be shuffled (each batch row one contiguous stream) or the cache would not hold
 * the previous subsequence; clear it at each epoch and before evaluation (`clear_prev_tokens` in
 * the official `fairseq_cli/train.py`).
 */
import { stopGradient, tf, type DecoderLM } from '@posenc/core';
import { FIRST_WINDOW_POSITION, windowPositions } from './window-positions.js';

export interface SubsequenceCacheOptions {
  /** L′: how many of the most recent tokens' normalised inputs each layer keeps (the paper uses L′ = L). */
  cacheLength: number;
  /** Position of a window's first token (the first cached one); default 1 as in the paper's Fig. 1c. */
  firstPosition?: number;
}

export interface CachedForwardCall {
  training?: boolean;
  dropoutSeed?: number;
  /**
   * Where the next subsequence starts, as an offset into `tokens` (default: right after them).
   * The cache keeps the L′ states just before it, so overlapping sliding windows each get the
   * states of the L′ tokens before the window; 0 keeps the cache as it was.
   */
  nextStart?: number;
}

export class SubsequenceCache {
  readonly cacheLength: number;
  readonly firstPosition: number;
  /** Per layer `[B, M, C]`, M ≤ L′; undefined when empty. */
  private states: tf.Tensor3D[] | undefined;
  /**
   * Tensors replaced by the last forward pass. They are freed at the next call rather than at
   * once, because a gradient tape recorded during that pass may still hold them.
   */
  private retired: tf.Tensor[] = [];

  constructor(options: SubsequenceCacheOptions) {
    const { cacheLength, firstPosition = FIRST_WINDOW_POSITION } = options;
    if (!Number.isInteger(cacheLength) || cacheLength < 0)
      throw new Error(
        `SubsequenceCache: cacheLength = ${cacheLength} is not allowed; expected an integer ≥ 0 (0 disables the cache)`,
      );
    if (!Number.isFinite(firstPosition))
      throw new Error(
        `SubsequenceCache: firstPosition = ${firstPosition} is not allowed; expected a finite number`,
      );
    this.cacheLength = cacheLength;
    this.firstPosition = firstPosition;
  }

  /** Tokens currently cached per batch row (0 after `clear`). */
  get cachedTokens(): number {
    return this.states?.[0]?.shape[1] ?? 0;
  }

  /** The cached normalised inputs per layer `[B, M, C]` (owned by the cache; do not dispose). */
  get layerStates(): readonly tf.Tensor3D[] {
    return this.states ?? [];
  }

  /** Forgets the cached subsequence: at each epoch, before evaluation, or between unrelated streams. */
  clear(): void {
    if (this.states) this.retired.push(...this.states);
    this.states = undefined;
  }

  dispose(): void {
    this.clear();
    this.releaseRetired();
  }

  /**
   * Logits `[B,L,V]` of `tokens` `[B,L]` attending to the cached subsequence, then caches the
   * last L′ normalised inputs of [cache; tokens before `nextStart`] per layer. The cache is
   * dropped first if the batch size changed (the official iterator does the same on the last,
   * smaller batch).
   */
  forward(model: DecoderLM, tokens: tf.Tensor2D, call: CachedForwardCall = {}): tf.Tensor3D {
    this.releaseRetired();
    const [batch, length] = tokens.shape;
    const nextStart = call.nextStart ?? length;
    if (!Number.isInteger(nextStart) || nextStart < 0 || nextStart > length)
      throw new Error(
        `SubsequenceCache: nextStart = ${nextStart} is not allowed; expected an integer from 0 to the ${length} tokens given`,
      );
    if (this.states && this.states[0]!.shape[0] !== batch) this.clear();
    if (this.states && this.states.length !== model.layers.length)
      throw new Error(
        `SubsequenceCache: it holds ${this.states.length} layers' states but the model has ${model.layers.length} layers; clear() it before switching models`,
      );
    const cached = this.cachedTokens;
    const { memoryPositions, positions } = windowPositions(
      batch,
      cached,
      length,
      this.firstPosition,
    );
    let result: ReturnType<DecoderLM['forward']>;
    try {
      result = model.forward(tokens, {
        positions,
        ...(this.states && { memories: this.states, memoryPositions }),
        training: call.training,
        dropoutSeed: call.dropoutSeed,
      });
    } finally {
      positions.ids.dispose();
      memoryPositions?.ids.dispose();
    }
    this.retired.push(...result.keySources);
    const end = cached + nextStart;
    const begin = Math.max(0, end - this.cacheLength);
    if (end > begin) {
      const previous = this.states;
      const next = tf.tidy(() =>
        result.keySources.map((source, layer) => {
          const all = previous ? (tf.concat([previous[layer]!, source], 1) as tf.Tensor3D) : source;
          return stopGradient(all.slice([0, begin, 0], [-1, end - begin, -1]));
        }),
      );
      this.states = next.map((state) => tf.keep(state));
      if (previous) this.retired.push(...previous);
    } else this.clear();
    return result.logits;
  }

  private releaseRetired(): void {
    tf.dispose(this.retired);
    this.retired = [];
  }
}
