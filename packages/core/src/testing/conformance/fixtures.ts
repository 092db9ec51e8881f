/**
 * What the conformance checks feed an encoding: a small model's sizes, parameter scopes unlike
 * core's models', positions written out as numbers (so any batch arrangement of them can be
 * made), and seeded random inputs for every hook. Everything is fixed, so the checks cannot flake.
 */
import { tf } from '../../engine/tf.js';
import type { ParameterScopes } from '../../encoding/parameter-scopes.js';
import type {
  AttentionKind,
  EncodingSizes,
  LinearFeatures,
} from '../../encoding/position-encoding.js';
import { positionsFromIds, type PositionKind, type Positions } from '../../positions/positions.js';
import { SMALL_SIZES } from '../build-spec.js';

/**
 * A small model's sizes, as a 2D model too: a 4×6 training grid after one skip token, larger
 * than the grid samples below, which therefore fall inside a table of the grid.
 */
export const SIZES: EncodingSizes = { ...SMALL_SIZES, grid: { height: 4, width: 6, skip: 1 } };
export const BATCH = 2;
/** Queries of a cached call: the last QUERIES of the KEYS tokens. */
export const QUERIES = 3;
export const KEYS = 5;

/** Scopes no model uses, so a name that ignores the build spec shows. */
export const CONFORMANCE_SCOPES: ParameterScopes = {
  embed: 'conformance_input',
  attention: (layer) => `conformance_block${layer}.attention`,
  sharedAttention: 'conformance_every_block',
};

/** Positions of each batch row as plain numbers. */
export type PositionSample =
  | { readonly kind: '1d'; readonly ids: readonly (readonly number[])[] }
  | {
      readonly kind: '2d';
      readonly rows: readonly (readonly number[])[];
      readonly cols: readonly (readonly number[])[];
      readonly skip: number;
      readonly height: number;
      readonly width: number;
    };

export type PositionValues = 'integer' | 'fractional';

/**
 * Batch rows that differ from each other, with gaps between ids (sampled segments have them).
 * 1D: the keys' ids; the queries of a cached call are the last `QUERIES` of them. 2D: a 2×3 grid
 * after one skip token (a class token), the second row shifted.
 */
export const POSITION_SAMPLES: Record<PositionKind, Record<PositionValues, PositionSample>> = {
  '1d': {
    integer: {
      kind: '1d',
      ids: [
        [1, 2, 4, 5, 7],
        [3, 6, 7, 9, 12],
      ],
    },
    fractional: {
      kind: '1d',
      ids: [
        [0.5, 1.25, 2.5, 4.75, 6],
        [2.25, 3.5, 5, 7.75, 9.5],
      ],
    },
  },
  '2d': {
    integer: grid(
      (r) => r,
      (c) => c,
    ),
    fractional: grid(
      (r) => 1.5 * r + 0.25,
      (c) => 0.75 * c + 0.5,
    ),
  },
};

function grid(row: (r: number) => number, col: (c: number) => number): PositionSample {
  const [height, width] = [2, 3];
  const cells = Array.from({ length: height * width }, (_, i) => [
    Math.floor(i / width),
    i % width,
  ]);
  return {
    kind: '2d',
    rows: [0, 1].map((shift) => cells.map(([r]) => row(r! + shift))),
    cols: [0, 2].map((shift) => cells.map(([, c]) => col(c! + shift))),
    skip: 1,
    height,
    width,
  };
}

export function tokenCount(sample: PositionSample): number {
  return sample.kind === '1d' ? sample.ids[0]!.length : sample.skip + sample.rows[0]!.length;
}

/** The sample's batch rows in the order given (repeat one to tile it). */
export function pickRows(sample: PositionSample, rows: readonly number[]): PositionSample {
  const pick = (m: readonly (readonly number[])[]) => rows.map((r) => m[r]!);
  return sample.kind === '1d'
    ? { ...sample, ids: pick(sample.ids) }
    : { ...sample, rows: pick(sample.rows), cols: pick(sample.cols) };
}

/** The positions of the last `n` tokens of a 1D sample. */
export function lastTokens(sample: PositionSample, n: number): PositionSample {
  if (sample.kind !== '1d') throw new Error('lastTokens: only 1D positions form a cache');
  return { ...sample, ids: sample.ids.map((row) => row.slice(row.length - n)) };
}

export function makePositions(sample: PositionSample): Positions {
  if (sample.kind === '1d') return positionsFromIds(sample.ids.map((row) => [...row]));
  const { skip, height, width } = sample;
  const matrix = (m: readonly (readonly number[])[]) =>
    tf.tensor2d(
      m.map((row) => [...row]),
      [m.length, m[0]!.length],
      'float32',
    );
  return { kind: '2d', rows: matrix(sample.rows), cols: matrix(sample.cols), skip, height, width };
}

/** Inputs of every hook for one call with `queries` and `keys` tokens. */
export interface HookInputs {
  /** Model input at the query tokens `[B,Nq,C]` (embed, projectionInputs). */
  readonly x: tf.Tensor3D;
  /** Model input at the key tokens `[B,Nk,C]`. */
  readonly xk: tf.Tensor3D;
  /** Heads `[B,H,N,D]`. */
  readonly q: tf.Tensor4D;
  readonly k: tf.Tensor4D;
  readonly v: tf.Tensor4D;
  /** Attention probabilities `[B,H,Nq,Nk]` (rows sum to 1). */
  readonly probs: tf.Tensor4D;
  /** Positive features `[B,H,N,D]` as a feature map gives them. */
  readonly features: LinearFeatures;
}

/** Seeded inputs of `tokens` queries and keys (self-attention) for `batch` rows. */
export function makeHookInputs(batch: number, tokens: number, seed: number): HookInputs {
  const { heads, headDim, modelDim } = SIZES;
  const heads4 = [batch, heads, tokens, headDim] as const;
  return tf.tidy(() => {
    const uniform = (shape: readonly number[], s: number) =>
      tf.randomUniform([...shape], -1, 1, 'float32', seed + s);
    const positive = (s: number) => tf.add(tf.elu(uniform(heads4, s)), 1) as tf.Tensor4D;
    const inputs: HookInputs = {
      x: uniform([batch, tokens, modelDim], 1) as tf.Tensor3D,
      xk: uniform([batch, tokens, modelDim], 2) as tf.Tensor3D,
      q: uniform(heads4, 3) as tf.Tensor4D,
      k: uniform(heads4, 4) as tf.Tensor4D,
      v: uniform(heads4, 5) as tf.Tensor4D,
      probs: tf.softmax(tf.mul(uniform([batch, heads, tokens, tokens], 6), 3)) as tf.Tensor4D,
      features: {
        numeratorQ: positive(7),
        numeratorK: positive(8),
        denominatorQ: positive(9),
        denominatorK: positive(10),
      },
    };
    return inputs as unknown as tf.TensorContainerObject;
  }) as unknown as HookInputs;
}

/** The inputs of the last `n` queries against all keys: what a call after a cache gets. */
export function lastQueries(inputs: HookInputs, n: number): HookInputs {
  return tf.tidy(() => {
    const last = <T extends tf.Tensor>(t: T, axis: number): T => {
      const begin = t.shape.map((_, i) => (i === axis ? t.shape[axis]! - n : 0));
      const size = t.shape.map((d, i) => (i === axis ? n : d));
      return tf.slice(t, begin, size) as T;
    };
    const f = inputs.features;
    const sliced: HookInputs = {
      x: last(inputs.x, 1),
      xk: tf.clone(inputs.xk),
      q: last(inputs.q, 2),
      k: tf.clone(inputs.k),
      v: tf.clone(inputs.v),
      probs: last(inputs.probs, 2),
      features: {
        numeratorQ: last(f.numeratorQ, 2),
        numeratorK: tf.clone(f.numeratorK),
        denominatorQ: last(f.denominatorQ, 2),
        denominatorK: tf.clone(f.denominatorK),
      },
    };
    return sliced as unknown as tf.TensorContainerObject;
  }) as unknown as HookInputs;
}

/** The inputs' batch rows in the order given. */
export function pickBatchRows(inputs: HookInputs, rows: readonly number[]): HookInputs {
  return tf.tidy(() => {
    const indices = tf.tensor1d([...rows], 'int32');
    const pick = <T extends tf.Tensor>(t: T): T => tf.gather(t, indices) as T;
    const f = inputs.features;
    const picked: HookInputs = {
      x: pick(inputs.x),
      xk: pick(inputs.xk),
      q: pick(inputs.q),
      k: pick(inputs.k),
      v: pick(inputs.v),
      probs: pick(inputs.probs),
      features: {
        numeratorQ: pick(f.numeratorQ),
        numeratorK: pick(f.numeratorK),
        denominatorQ: pick(f.denominatorQ),
        denominatorK: pick(f.denominatorK),
      },
    };
    return picked as unknown as tf.TensorContainerObject;
  }) as unknown as HookInputs;
}

export function inputTensors(inputs: HookInputs): tf.Tensor[] {
  const f = inputs.features;
  return [
    inputs.x,
    inputs.xk,
    inputs.q,
    inputs.k,
    inputs.v,
    inputs.probs,
    f.numeratorQ,
    f.numeratorK,
    f.denominatorQ,
    f.denominatorK,
  ];
}

/** How attention is called in a check. */
export interface CallSettings {
  readonly kind: AttentionKind;
  readonly causal: boolean;
  readonly layer?: number;
}
