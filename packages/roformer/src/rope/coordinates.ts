/**
 * Positions as float64 numbers in JS, whatever form they were given in. Angles are computed
 * from these in float64 (RoPE loses phase at long positions in float32 and below:
 * huggingface/transformers#29285, EleutherAI/gpt-neox#1003), so tensors are read back once; a
 * tensor's values never change, so each tensor object is read at most once.
 */
import { tf, type GridPositions, type Positions } from '@posenc/core';

/** Token positions: one row shared by the batch (`rows` = 1) or one row per batch element. */
export interface SequenceCoordinates {
  readonly kind: '1d';
  readonly rows: number;
  readonly length: number;
  /** `[rows, length]` row-major. */
  readonly values: Float64Array;
}

/** Grid positions of image tokens after `skip` leading tokens that have none (a class token). */
export interface GridCoordinates {
  readonly kind: '2d';
  readonly rows: number;
  /** Tokens including the skip tokens. */
  readonly length: number;
  readonly skip: number;
  /** `[rows, length − skip]` row-major. */
  readonly row: Float64Array;
  readonly col: Float64Array;
}

export type Coordinates = SequenceCoordinates | GridCoordinates;

/**
 * What `applyRope` accepts as positions: ids `[N]` shared by the batch, `[B][N]` per batch row (a
 * JS array, typed array or tensor), or core's positions (1D ids or a 2D grid). `undefined`
 * means 0 … N−1.
 */
export type RopePositionsInput =
  | readonly number[]
  | readonly (readonly number[])[]
  | Float64Array
  | Float32Array
  | tf.Tensor
  | Positions
  | undefined;

const tensorValues = new WeakMap<tf.Tensor, Float64Array>();

/** Float64 copy of a tensor's values, read once per tensor object. */
export function readTensorValues(t: tf.Tensor): Float64Array {
  let values = tensorValues.get(t);
  if (!values) {
    values = Float64Array.from(t.dataSync() as Float32Array);
    tensorValues.set(t, values);
  }
  return values;
}

/**
 * Positions for `length` tokens of a batch of `batch`, plus `offset` (a cache's length) added to
 * 1D positions. `who` names the caller in errors.
 */
export function readCoordinates(
  input: RopePositionsInput,
  batch: number,
  length: number,
  offset = 0,
  who = 'applyRope',
): Coordinates {
  if (!Number.isFinite(offset))
    throw new Error(`${who}: offset = ${offset} is not allowed; expected a finite number`);
  if (input === undefined)
    return sequence(
      1,
      length,
      Float64Array.from({ length }, (_, i) => i + offset),
    );
  if (isPositions(input)) {
    if (input.kind === '2d') return grid(input, batch, length, who);
    return fromMatrix(
      readTensorValues(input.ids),
      input.ids.shape[0],
      input.ids.shape[1],
      batch,
      length,
      offset,
      who,
    );
  }
  if (input instanceof tf.Tensor) {
    if (input.rank === 1)
      return fromMatrix(readTensorValues(input), 1, input.shape[0]!, batch, length, offset, who);
    if (input.rank === 2)
      return fromMatrix(
        readTensorValues(input),
        input.shape[0]!,
        input.shape[1]!,
        batch,
        length,
        offset,
        who,
      );
    throw new Error(`${who}: position tensor has shape [${input.shape}]; expected [N] or [B,N]`);
  }
  if (input instanceof Float64Array || input instanceof Float32Array)
    return fromMatrix(Float64Array.from(input), 1, input.length, batch, length, offset, who);
  if (Array.isArray(input) && input.length > 0 && Array.isArray(input[0])) {
    const rows = input as readonly (readonly number[])[];
    const width = rows[0]!.length;
    rows.forEach((r, b) => {
      if (!Array.isArray(r) || r.length !== width)
        throw new Error(
          `${who}: positions row ${b} has ${(r as unknown[])?.length} ids; every row needs ${width}`,
        );
    });
    return fromMatrix(
      Float64Array.from(rows.flat()),
      rows.length,
      width,
      batch,
      length,
      offset,
      who,
    );
  }
  if (Array.isArray(input))
    return fromMatrix(
      Float64Array.from(input as readonly number[]),
      1,
      input.length,
      batch,
      length,
      offset,
      who,
    );
  throw new Error(
    `${who}: positions of type ${typeof input} are not supported; pass ids [N] or [B][N], a tensor or core positions`,
  );
}

function isPositions(input: object): input is Positions {
  return (
    'kind' in input && ((input as Positions).kind === '1d' || (input as Positions).kind === '2d')
  );
}

function fromMatrix(
  values: Float64Array,
  rows: number,
  width: number,
  batch: number,
  length: number,
  offset: number,
  who: string,
): SequenceCoordinates {
  if (width !== length)
    throw new Error(
      `${who}: positions cover ${width} tokens; x has ${length} tokens along its sequence axis`,
    );
  if (rows !== 1 && rows !== batch)
    throw new Error(
      `${who}: positions have ${rows} rows; x has batch ${batch} (positions need 1 row or ${batch})`,
    );
  values.forEach((v, i) => {
    if (!Number.isFinite(v))
      throw new Error(
        `${who}: position [${Math.floor(i / width)}][${i % width}] = ${v} is not finite`,
      );
  });
  const shifted = offset === 0 ? values : values.map((v) => v + offset);
  return collapseRows(sequence(rows, width, shifted));
}

function sequence(rows: number, length: number, values: Float64Array): SequenceCoordinates {
  return { kind: '1d', rows, length, values };
}

/** Rows that are all equal become one shared row: smaller tables, and a cache hit for any batch. */
function collapseRows(c: SequenceCoordinates): SequenceCoordinates {
  if (c.rows === 1) return c;
  for (let r = 1; r < c.rows; r++)
    for (let i = 0; i < c.length; i++) if (c.values[r * c.length + i] !== c.values[i]) return c;
  return sequence(1, c.length, c.values.slice(0, c.length));
}

function grid(p: GridPositions, batch: number, length: number, who: string): GridCoordinates {
  const rows = p.rows.shape[0];
  const gridTokens = p.rows.shape[1];
  if (p.skip + gridTokens !== length)
    throw new Error(
      `${who}: grid positions cover ${p.skip} skip + ${gridTokens} grid tokens; x has ${length} tokens`,
    );
  if (rows !== 1 && rows !== batch)
    throw new Error(
      `${who}: grid positions have ${rows} rows; x has batch ${batch} (positions need 1 row or ${batch})`,
    );
  const row = readTensorValues(p.rows);
  const col = readTensorValues(p.cols);
  let shared = true;
  for (let r = 1; r < rows && shared; r++)
    for (let i = 0; i < gridTokens; i++)
      if (row[r * gridTokens + i] !== row[i] || col[r * gridTokens + i] !== col[i]) {
        shared = false;
        break;
      }
  return shared
    ? {
        kind: '2d',
        rows: 1,
        length,
        skip: p.skip,
        row: row.slice(0, gridTokens),
        col: col.slice(0, gridTokens),
      }
    : { kind: '2d', rows, length, skip: p.skip, row, col };
}

/** Largest coordinate (any axis); HF's dynamic scalings use max(position_ids) + 1 as the length. */
export function maxCoordinate(c: Coordinates): number {
  let max = -Infinity;
  const scan = (a: Float64Array) => a.forEach((v) => (max = Math.max(max, v)));
  if (c.kind === '1d') scan(c.values);
  else {
    scan(c.row);
    scan(c.col);
  }
  return max === -Infinity ? 0 : max;
}

/** A short key that identifies the coordinates, for the angle-table cache. */
export function coordinatesKey(c: Coordinates): string {
  if (c.kind === '1d') {
    if (c.rows === 1 && isUnitRange(c.values)) return `1d:range:${c.values[0] ?? 0}:${c.length}`;
    return `1d:${c.rows}x${c.length}:${hash64(c.values)}`;
  }
  return `2d:${c.rows}x${c.length}:${c.skip}:${hash64(c.row)}:${hash64(c.col)}`;
}

function isUnitRange(v: Float64Array): boolean {
  for (let i = 1; i < v.length; i++) if (v[i] !== v[0]! + i) return false;
  return true;
}

/** Two FNV-1a hashes with different seeds over the float64 bits: 64 bits of key. */
export function hash64(values: Float64Array): string {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ values.length;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    a = Math.imul(a ^ w, 0x01000193);
    b = Math.imul(b ^ ((w << 7) | (w >>> 25)), 0x5bd1e995);
  }
  return `${(a >>> 0).toString(16)}${(b >>> 0).toString(16)}`;
}
