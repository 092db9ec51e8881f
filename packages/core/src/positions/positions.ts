/**
 * Positions are explicit tensors, never implied by a token's index: a cache, a sampled
 * segment or a shifted window can carry any ids. Every hook receives query and key positions.
 */
import { tf } from '../engine/tf.js';

/** 1D position ids `[B,N]`, integer or fractional (float32). */
export interface SequencePositions {
  readonly kind: '1d';
  readonly ids: tf.Tensor2D;
}

/**
 * 2D grid positions for images. The first `skip` tokens (e.g. a class token) have no grid
 * position; `rows`/`cols` `[B, N - skip]` hold the grid coordinates of the others.
 */
export interface GridPositions {
  readonly kind: '2d';
  readonly rows: tf.Tensor2D;
  readonly cols: tf.Tensor2D;
  readonly skip: number;
  /** Grid size, when the tokens form a full height×width grid (needed by some 2D methods). */
  readonly height?: number;
  readonly width?: number;
}

export type Positions = SequencePositions | GridPositions;

/**
 * The grid a 2D model is trained on: `height × width` patches after `skip` leading tokens. A
 * model gives it to its encodings at build time: absolute 2D tables are sized by it, and iRPE
 * gives skip tokens a bucket of their own only when there are some.
 */
export interface GridShape {
  readonly height: number;
  readonly width: number;
  readonly skip: number;
}

/** `1d` sequence ids or a `2d` grid. */
export type PositionKind = Positions['kind'];

/** Number of tokens the positions describe (including skip tokens). */
export function positionsLength(p: Positions): number {
  return p.kind === '1d' ? p.ids.shape[1] : p.rows.shape[1] + p.skip;
}

export function positionsBatch(p: Positions): number {
  return p.kind === '1d' ? p.ids.shape[0] : p.rows.shape[0];
}

/** Ids `offset, offset+1, …, offset+length-1` for every batch row. */
export function sequencePositions(batch: number, length: number, offset = 0): SequencePositions {
  assertNonNegativeInt('batch', batch);
  assertNonNegativeInt('length', length);
  const ids = tf.tidy(() =>
    tf.tile(tf.range(offset, offset + length, 1, 'float32').expandDims(0), [batch, 1]),
  ) as tf.Tensor2D;
  return { kind: '1d', ids };
}

/** Explicit ids from an array `[B][N]` (or one row shared by every batch row). */
export function positionsFromIds(ids: number[][] | tf.Tensor2D): SequencePositions {
  if (ids instanceof tf.Tensor) {
    if (ids.rank !== 2) throw new Error(`positions: ids must be [B,N], got shape [${ids.shape}]`);
    return { kind: '1d', ids: ids.toFloat() as tf.Tensor2D };
  }
  const n = ids[0]?.length ?? 0;
  ids.forEach((row, b) => {
    if (row.length !== n)
      throw new Error(`positions: row ${b} has ${row.length} ids, expected ${n} (all rows equal)`);
    row.forEach((v, i) => {
      if (!Number.isFinite(v)) throw new Error(`positions: ids[${b}][${i}] = ${v} is not finite`);
    });
  });
  return { kind: '1d', ids: tf.tensor2d(ids, [ids.length, n], 'float32') };
}

/**
 * Row-major grid positions for `height × width` patches after `skip` leading tokens.
 */
export function gridPositions(
  batch: number,
  height: number,
  width: number,
  skip = 0,
): GridPositions {
  assertNonNegativeInt('batch', batch);
  assertNonNegativeInt('height', height);
  assertNonNegativeInt('width', width);
  assertNonNegativeInt('skip', skip);
  const [rows, cols] = tf.tidy(() => {
    const r = tf
      .range(0, height, 1, 'float32')
      .reshape([height, 1])
      .tile([1, width])
      .reshape([1, -1]);
    const c = tf
      .range(0, width, 1, 'float32')
      .reshape([1, width])
      .tile([height, 1])
      .reshape([1, -1]);
    return [r.tile([batch, 1]), c.tile([batch, 1])] as tf.Tensor2D[];
  });
  return { kind: '2d', rows: rows!, cols: cols!, skip, height, width };
}

/** Positions of the last `length` tokens (what queries see after a cache prefix). */
export function slicePositions(p: Positions, start: number, length: number): Positions {
  if (p.kind === '1d') return { kind: '1d', ids: p.ids.slice([0, start], [-1, length]) };
  throw new Error('slicePositions: only 1D positions can be sliced');
}

/** Concatenates positions along the sequence (a cache followed by the current tokens). */
export function concatPositions(a: SequencePositions, b: SequencePositions): SequencePositions {
  return { kind: '1d', ids: tf.concat([a.ids, b.ids], 1) as tf.Tensor2D };
}

export function disposePositions(p: Positions): void {
  if (p.kind === '1d') p.ids.dispose();
  else tf.dispose([p.rows, p.cols]);
}

/**
 * Relative distances key − query, `[B, Nq, Nk]`, for 1D positions (j − i in Shaw's notation).
 */
export function relativeDistances(query: SequencePositions, key: SequencePositions): tf.Tensor3D {
  return tf.tidy(() => tf.sub(key.ids.expandDims(1), query.ids.expandDims(2))) as tf.Tensor3D;
}

export function require1D(p: Positions, who: string): SequencePositions {
  if (p.kind !== '1d')
    throw new Error(`${who} needs 1D sequence positions ([B,N] ids), got 2D grid positions`);
  return p;
}

function assertNonNegativeInt(field: string, v: number): void {
  if (!Number.isInteger(v) || v < 0)
    throw new Error(`positions: ${field} = ${v} is not allowed; expected an integer ≥ 0`);
}
