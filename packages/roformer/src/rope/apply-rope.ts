/**
 * `applyRope(x, positions, options)`: rotary position embedding (Su et al. 2021) of queries or
 * keys `[B,H,N,D]` (or `[B,N,D]`), as a pure function of explicit positions.
 */
import type { RotaryAttributes, tf } from '@posenc/core';
import { ropeFrequencies, type RopeScaling } from './frequencies.js';
import { assertLayout, type RopeLayout } from './layout.js';
import {
  coordinatesKey,
  maxCoordinate,
  readCoordinates,
  type Coordinates,
  type RopePositionsInput,
} from './coordinates.js';
import {
  AngleTableCache,
  buildAngleTables,
  planKey,
  xposZeta,
  type AnglePlan,
} from './angle-tables.js';
import { rotate, type AngleTables } from './rotary-kernel.js';

export interface XposOptions {
  /** Queries are scaled by ζ^power, keys by ζ^−power. */
  readonly role: 'query' | 'key';
  /** `xpos_scale_base`; default 512 (rotary-embedding-torch, x-transformers). */
  readonly scaleBase?: number;
  /**
   * Position subtracted before the power (cancels in q·k; keeps ζ^power in float32 range). Must
   * be the same for the queries and keys that meet. Default ⌊(min + max + 1)/2⌋ of the
   * positions, which is rotary-embedding-torch's `len(t) // 2` for positions 0 … N−1.
   */
  readonly center?: number;
}

export interface RopeOptions {
  /** `interleaved` (RoFormer: pairs 2i, 2i+1; default) or `half` (NeoX/LLaMA: pairs i, i+d/2). */
  readonly layout?: RopeLayout;
  /**
   * Rotated features (even); default all features from `startIndex`. With 2D grid positions
   * it is the total over both axes (a multiple of 4): half turns with the row, half with the column.
   */
  readonly rotaryDim?: number;
  /** First rotated feature; default 0 (features before and after the slice pass through). */
  readonly startIndex?: number;
  /** θ; default 10000. */
  readonly base?: number;
  /** Added to 1D positions (the length of a cache before these tokens); default 0. */
  readonly offset?: number;
  /** Longer-context scaling of the frequencies (linear, ntk, dynamic, yarn, llama3, longrope). */
  readonly scaling?: RopeScaling;
  /** Current length for `dynamic`/`longrope`; default max(position) + 1 as HF. */
  readonly sequenceLength?: number;
  /** xPos scaling (Sun et al. 2022); 1D positions only. */
  readonly xpos?: XposOptions;
  /** Rotate by −angle (undo a rotation); default false. */
  readonly inverse?: boolean;
  /** Reuse tables across calls (kept tensors, freed by the cache's `dispose()`). */
  readonly cache?: AngleTableCache;
}

/** What a call resolves its options to: the rotated slice and the angle plan. */
export interface ResolvedRope {
  readonly layout: RopeLayout;
  readonly startIndex: number;
  readonly rotaryDim: number;
  /** 1 for sequences, 2 for axial grids. */
  readonly axes: 1 | 2;
  readonly plan: AnglePlan;
}

/**
 * Rotates the features of `x` by the angles of its tokens' positions. Pairs follow `layout`;
 * the result has the shape of `x`. Gradients flow through the inverse rotation.
 */
export function applyRope<T extends tf.Tensor3D | tf.Tensor4D>(
  x: T,
  positions?: RopePositionsInput,
  options: RopeOptions = {},
): T {
  if (x.rank !== 3 && x.rank !== 4)
    throw new Error(`applyRope: x has shape [${x.shape}]; expected [B,H,N,D] or [B,N,D]`);
  const batch = x.shape[0];
  const length = x.shape[x.rank - 2]!;
  const coordinates = readCoordinates(positions, batch, length, options.offset ?? 0);
  return rotateAt(x, coordinates, resolveRope(x.shape[x.rank - 1]!, coordinates, options), options);
}

/** Rotates `x` at known coordinates with a resolved plan (the encoding's entry point). */
export function rotateAt<T extends tf.Tensor>(
  x: T,
  coordinates: Coordinates,
  resolved: ResolvedRope,
  options: Pick<RopeOptions, 'cache' | 'inverse'> = {},
): T {
  const attributes = { ...rotationAttributes(resolved), transpose: options.inverse ?? false };
  if (options.cache)
    return rotate(x, cachedAngleTables(coordinates, resolved, options.cache), attributes);
  const tables = buildAngleTables(coordinates, resolved.plan);
  try {
    return rotate(x, tables, attributes);
  } finally {
    // The kernel keeps its own references for the gradient.
    tables.cos.dispose();
    tables.sin.dispose();
  }
}

/** How the tables' pairs map onto the features (core's `PosencRotary` attributes). */
export function rotationAttributes(resolved: ResolvedRope): Omit<RotaryAttributes, 'transpose'> {
  return { layout: resolved.layout, startIndex: resolved.startIndex, chunks: resolved.axes };
}

/** The angle tables of `coordinates`, from `cache` or built into it (they live as long as it keeps them). */
export function cachedAngleTables(
  coordinates: Coordinates,
  resolved: ResolvedRope,
  cache: AngleTableCache,
): AngleTables {
  const key = `${coordinatesKey(coordinates)}|${planKey(resolved.plan)}`;
  return cache.get(key, () => buildAngleTables(coordinates, resolved.plan));
}

/** Validates the options against a feature width and positions, and computes the frequencies. */
export function resolveRope(
  dim: number,
  coordinates: Coordinates,
  options: Omit<RopeOptions, 'cache' | 'inverse' | 'offset'>,
  who = 'applyRope',
): ResolvedRope {
  const layout = options.layout ?? 'interleaved';
  assertLayout(layout);
  const startIndex = options.startIndex ?? 0;
  if (!Number.isInteger(startIndex) || startIndex < 0 || startIndex >= dim)
    throw new Error(
      `${who}: startIndex = ${startIndex} is not allowed; expected an integer in [0, ${dim - 1}] (feature dim ${dim})`,
    );
  const axes = coordinates.kind === '2d' ? 2 : 1;
  const rotaryDim = options.rotaryDim ?? dim - startIndex;
  const multiple = 2 * axes;
  if (!Number.isInteger(rotaryDim) || rotaryDim < multiple || rotaryDim % multiple !== 0)
    throw new Error(
      `${who}: rotaryDim = ${rotaryDim} is not allowed; expected a multiple of ${multiple} ≥ ${multiple} (${axes === 2 ? 'a pair per axis' : 'features rotate in pairs'})`,
    );
  if (startIndex + rotaryDim > dim)
    throw new Error(
      `${who}: rotaryDim = ${rotaryDim} from startIndex = ${startIndex} does not fit in the ${dim} features of x`,
    );
  const base = options.base ?? 10000;
  if (!Number.isFinite(base) || base <= 1)
    throw new Error(`${who}: base = ${base} is not allowed; expected a finite number > 1`);
  const frequencies = ropeFrequencies({
    rotaryDim: rotaryDim / axes,
    base,
    scaling: options.scaling,
    sequenceLength: options.sequenceLength ?? Math.floor(maxCoordinate(coordinates)) + 1,
  });
  let plan: AnglePlan = frequencies;
  if (options.xpos) {
    if (axes !== 1)
      throw new Error(
        `${who}: xpos needs 1D sequence positions; xPos is defined for causal sequences, not grids`,
      );
    const { role, scaleBase = 512 } = options.xpos;
    if (role !== 'query' && role !== 'key')
      throw new Error(
        `${who}: xpos.role = ${JSON.stringify(role)} is not allowed; expected 'query' or 'key'`,
      );
    if (!Number.isFinite(scaleBase) || scaleBase <= 0)
      throw new Error(
        `${who}: xpos.scaleBase = ${scaleBase} is not allowed; expected a finite number > 0`,
      );
    const center = options.xpos.center ?? defaultXposCenter(coordinates);
    if (!Number.isFinite(center))
      throw new Error(`${who}: xpos.center = ${center} is not allowed; expected a finite number`);
    plan = {
      ...frequencies,
      xpos: { zeta: xposZeta(rotaryDim), scaleBase, center, sign: role === 'query' ? 1 : -1 },
    };
  }
  return { layout, startIndex, rotaryDim, axes, plan };
}

/** ⌊(min + max + 1)/2⌋ of the positions: N//2 for 0 … N−1, as rotary-embedding-torch. */
export function defaultXposCenter(c: Coordinates): number {
  if (c.kind !== '1d' || c.values.length === 0) return 0;
  let min = Infinity;
  let max = -Infinity;
  c.values.forEach((v) => {
    min = Math.min(min, v);
    max = Math.max(max, v);
  });
  return Math.floor((min + max + 1) / 2);
}
