/**
 * What a model checks and fills in of a call's inputs before it runs: the positions (the
 * caller's, or 0…N−1 made for the call and freed after it) and tensors with one entry per token.
 */
import type { tf } from '../engine/tf.js';
import {
  disposePositions,
  positionsBatch,
  positionsLength,
  sequencePositions,
  type Positions,
} from '../positions/positions.js';

export interface InputShape {
  /** The model's name, for error messages. */
  owner: string;
  batch: number;
  length: number;
  /**
   * Accept positions with one row shared by every batch row (HF's `position_ids` `[1,N]`); the
   * default positions are then one row too.
   */
  sharedRow?: boolean;
}

/**
 * Runs `run` with the call's positions, checked against the input's shape, or, when none are
 * given, with positions `make` builds (default 0…N−1), freed when `run` returns or throws.
 */
export function withPositions<T>(
  given: Positions | undefined,
  input: InputShape,
  run: (positions: Positions) => T,
  make: () => Positions = () => sequencePositions(input.sharedRow ? 1 : input.batch, input.length),
): T {
  const own = given ? undefined : make();
  try {
    const positions = given ?? own!;
    assertPositionsFit(positions, input);
    return run(positions);
  } finally {
    if (own) disposePositions(own);
  }
}

export function assertPositionsFit(positions: Positions, input: InputShape): void {
  const { owner, batch, length, sharedRow } = input;
  const rows = positionsBatch(positions);
  if ((rows !== batch && !(sharedRow && rows === 1)) || positionsLength(positions) !== length)
    throw new Error(
      `${owner}: positions describe [${rows}, ${positionsLength(positions)}] tokens, input is [${batch}, ${length}]${sharedRow ? ' (one shared row is allowed)' : ''}`,
    );
}

/** Checks that an optional per-token tensor (a mask, token types) is `[B,N]` like the tokens. */
export function assertLikeTokens(input: InputShape, field: string, t: tf.Tensor | undefined): void {
  if (t && (t.rank !== 2 || t.shape[0] !== input.batch || t.shape[1] !== input.length))
    throw new Error(
      `${input.owner}: ${field} has shape [${t.shape}], expected [${input.batch}, ${input.length}] like the tokens`,
    );
}
