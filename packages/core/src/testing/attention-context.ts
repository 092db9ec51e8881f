/**
 * The `AttentionContext` a test gives a hook it calls directly: positions from plain id rows (or
 * positions it already has), everything else set to a small softmax call unless it says otherwise.
 */
import type { AttentionContext, AttentionKind } from '../encoding/position-encoding.js';
import { disposePositions, positionsFromIds, type Positions } from '../positions/positions.js';

/** Ids `[B][N]` (made into 1D positions) or positions. */
export type PositionsLike = number[][] | Positions;

export interface TestContextOptions {
  readonly queries: PositionsLike;
  /** Key positions; default the query positions (self-attention without a cache). */
  readonly keys?: PositionsLike;
  /** Default 2. */
  readonly heads?: number;
  /** Default 8. */
  readonly headDim?: number;
  /** Default false. */
  readonly causal?: boolean;
  /** Default 0. */
  readonly layer?: number;
  /** Default `softmax`. */
  readonly kind?: AttentionKind;
  /** Default false. */
  readonly training?: boolean;
}

export function attentionContext(options: TestContextOptions): AttentionContext {
  const queryPositions = toPositions(options.queries);
  return {
    queryPositions,
    keyPositions: options.keys === undefined ? queryPositions : toPositions(options.keys),
    heads: options.heads ?? 2,
    headDim: options.headDim ?? 8,
    causal: options.causal ?? false,
    layer: options.layer ?? 0,
    kind: options.kind ?? 'softmax',
    training: options.training ?? false,
  };
}

/** Frees the context's query and key positions (once when they are the same). */
export function disposeAttentionContext(ctx: AttentionContext): void {
  disposePositions(ctx.queryPositions);
  if (ctx.keyPositions !== ctx.queryPositions) disposePositions(ctx.keyPositions);
}

function toPositions(p: PositionsLike): Positions {
  return Array.isArray(p) ? positionsFromIds(p) : p;
}
