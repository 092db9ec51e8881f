/**
 * Token-by-token evaluation with the cache, as the official `--sliding-inf 1` mode
 * (ofirpress/shortformer, `transformer.py` and `transformer_layer.py`): the first L tokens run in
 * one pass and fill the cache; after that only the newest token is computed, attending to the
 * cached states of the `toSee − 1` tokens before it plus itself. `toSee` grows by one per token
 * from L + 1 to 2L, then falls back to L + 1, and positions are relabelled 1…toSee each time.
 * Every prediction thus sees between L + 1 and 2L tokens, as in training with L′ = L, at O(L)
 * attention cost per token.
 *
 * Each token's states are computed once, with the same context and positions as in a
 * nonoverlapping pass with a cache of L′ = L, so both give the same per-token NLL (the paper
 * reports equal perplexities, §5.3; the tests check it to float tolerance).
 */
import { tf, windowsAt, type DecoderLM } from '@posenc/core';
import { FIRST_WINDOW_POSITION, windowPositions } from '../window-positions.js';
import {
  assertPositiveInteger,
  nllValues,
  perplexityOf,
  predictionCount,
  type PerplexityResult,
} from './perplexity.js';

export interface TokenByTokenOptions {
  /** Subsequence length L the model was trained with (its cache L′ = L). */
  length: number;
  /** Position of a window's first token; default 1. */
  firstPosition?: number;
}

export function evaluateTokenByToken(
  model: DecoderLM,
  tokens: Int32Array,
  options: TokenByTokenOptions,
): PerplexityResult {
  const who = 'evaluateTokenByToken';
  const { length, firstPosition = FIRST_WINDOW_POSITION } = options;
  assertPositiveInteger(who, 'length', length);
  const n = predictionCount(tokens, who);
  const nll = new Float64Array(n);
  const first = Math.min(length, n);
  /** Per layer `[1, M, C]`: the states of the most recent M ≤ 2L − 1 tokens. */
  let states: tf.Tensor3D[] = [];
  const keepLast = (all: tf.Tensor3D[]): tf.Tensor3D[] =>
    all.map((s) => {
      const m = s.shape[1];
      return (
        m > 2 * length - 1 ? s.slice([0, m - (2 * length - 1), 0]) : s.clone()
      ) as tf.Tensor3D;
    });
  try {
    // The first L tokens: one ordinary pass, no cache.
    {
      const { inputs, targets } = windowsAt(tokens, [0], first);
      const { positions } = windowPositions(1, 0, first, firstPosition);
      try {
        const { logits, keySources } = model.forward(inputs, { positions });
        states = keySources;
        try {
          nll.set(nllValues(logits, targets), 0);
        } finally {
          logits.dispose();
        }
      } finally {
        tf.dispose([inputs, targets, positions.ids]);
      }
    }
    for (let t = first; t < n; t++) {
      const toSee = length + 1 + ((t - length) % length);
      const { inputs, targets } = windowsAt(tokens, [t], 1);
      const { memoryPositions, positions } = windowPositions(1, toSee - 1, 1, firstPosition);
      try {
        const next = tf.tidy(() => {
          const memories = states.map(
            (s) => s.slice([0, s.shape[1] - (toSee - 1), 0]) as tf.Tensor3D,
          );
          const { logits, keySources } = model.forward(inputs, {
            positions,
            memories,
            memoryPositions,
          });
          const appended = states.map(
            (s, layer) => tf.concat([s, keySources[layer]!], 1) as tf.Tensor3D,
          );
          return { logits, states: keepLast(appended) } as unknown as tf.TensorContainerObject;
        }) as unknown as { logits: tf.Tensor3D; states: tf.Tensor3D[] };
        tf.dispose(states);
        states = next.states;
        try {
          nll[t] = nllValues(next.logits, targets)[0]!;
        } finally {
          next.logits.dispose();
        }
      } finally {
        tf.dispose([inputs, targets, positions.ids, memoryPositions!.ids]);
      }
    }
  } finally {
    tf.dispose(states);
  }
  return perplexityOf(nll);
}
