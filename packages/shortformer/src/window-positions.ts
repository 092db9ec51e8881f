/**
 * Shortformer's positions are relative to the current window, never absolute in the stream:
 * with L′ cached tokens before L current ones, the cache gets 1…L′ and the current tokens
 * L′+1…L′+L, relabelled at every step (paper §5.2 and Fig. 1c: "tokens d, e and f become the
 * cache, with P.E. 1, 2 and 3, the three new tokens get P.E. 4, 5, and 6"; the keys get
 * `positions[:L′+L]` in `transformer_layer.py`). This works because PIA puts no position in
 * the values, so cached states carry none.
 */
import { sequencePositions, type SequencePositions } from '@posenc/core';

/** Window numbering of the paper (Fig. 1c): the first token of a window is position 1. */
export const FIRST_WINDOW_POSITION = 1;

export interface WindowPositions {
  /** `[B, L′]` positions of the cached tokens; absent when nothing is cached. */
  memoryPositions?: SequencePositions;
  /** `[B, L]` positions of the current tokens, right after the cache's. */
  positions: SequencePositions;
}

/**
 * Positions `first…first+L′−1` for `cached` tokens and `first+L′…first+L′+L−1` for `length`
 * current tokens. The caller owns (disposes) the returned ids.
 */
export function windowPositions(
  batch: number,
  cached: number,
  length: number,
  first = FIRST_WINDOW_POSITION,
): WindowPositions {
  for (const [field, value] of [
    ['batch', batch],
    ['cached', cached],
    ['length', length],
  ] as const)
    if (!Number.isInteger(value) || value < 0)
      throw new Error(
        `windowPositions: ${field} = ${value} is not allowed; expected an integer ≥ 0`,
      );
  if (!Number.isFinite(first))
    throw new Error(`windowPositions: first = ${first} is not allowed; expected a finite number`);
  const positions = sequencePositions(batch, length, first + cached);
  if (cached === 0) return { positions };
  return { memoryPositions: sequencePositions(batch, cached, first), positions };
}
