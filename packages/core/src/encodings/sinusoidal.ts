/**
 * Fixed sinusoids added to the token embeddings (Vaswani et al. 2017, §3.5), evaluated at the
 * explicit position ids: shifted, sampled or fractional positions get the formula's value, never
 * a rounded table row. On a 2D grid the first half of the features are the sinusoids of the
 * row and the second half those of the column, as DETR's `PositionEmbeddingSine` (unnormalised)
 * and MAE's 2D sin-cos table; skip tokens (a class token) get none.
 */
import { tf } from '../engine/tf.js';
import { EMBEDDING_INIT_STD } from '../nn/init.js';
import type { ConfigOf, Schema } from '../config/schema.js';
import type { AttentionKind, PositionEncoding } from '../encoding/position-encoding.js';
import { supportedAttention, type EncodingDefinition } from '../encoding/registry.js';
import { require1D, type GridPositions, type Positions } from '../positions/positions.js';

export type SinusoidLayout = 'interleaved' | 'fairseq';

export interface SinusoidOptions {
  /**
   * `interleaved` (default): Vaswani et al., sin at even features and cos at odd ones, frequency
   * base^(−2i/dim) for pair i. `fairseq`: fairseq's `SinusoidalPositionalEmbedding.get_embedding`
   * (used by Shortformer), `[sin | cos]` halves with frequency exp(−i·ln(base)/(half−1)).
   */
  readonly layout?: SinusoidLayout;
  /** Longest wavelength / 2π; 10000 in both the paper and fairseq. */
  readonly base?: number;
  /** Multiplies every value; default 1. */
  readonly scale?: number;
  /** fairseq's `padding_idx`: the row of this position is zero (`emb[padding_idx, :] = 0`). */
  readonly paddingIdx?: number;
}

/**
 * Sinusoids of `positions` (any real values), row-major `[positions.length, dim]`, in float64
 * so long or fractional positions lose no phase to float32 rounding.
 */
export function sinusoidTable(
  positions: Float64Array | readonly number[],
  dim: number,
  options: SinusoidOptions = {},
): Float64Array {
  const { layout = 'interleaved', base = 10000, scale = 1, paddingIdx } = options;
  if (!Number.isInteger(dim) || dim < 1)
    throw new Error(`sinusoidTable: dim = ${dim} is not allowed; expected an integer ≥ 1`);
  const table = new Float64Array(positions.length * dim);
  if (layout === 'fairseq') {
    const frequencies = fairseqFrequencies(dim, base);
    const half = frequencies.length;
    positions.forEach((position, row) => {
      if (position === paddingIdx) return;
      const offset = row * dim;
      for (let i = 0; i < half; i++) {
        table[offset + i] = scale * Math.sin(position * frequencies[i]!);
        table[offset + half + i] = scale * Math.cos(position * frequencies[i]!);
      }
      // An odd dim leaves the last column 0, as fairseq's zero-padding does.
    });
  } else {
    const frequencies = interleavedFrequencies(dim, base);
    positions.forEach((position, row) => {
      if (position === paddingIdx) return;
      const offset = row * dim;
      for (let j = 0; j < dim; j++) {
        const angle = position * frequencies[j >> 1]!;
        table[offset + j] = scale * (j % 2 === 0 ? Math.sin(angle) : Math.cos(angle));
      }
    });
  }
  return table;
}

/** ω_i = base^(−2i/dim) for feature pair i (Vaswani et al. 2017, §3.5). */
function interleavedFrequencies(dim: number, base: number): Float64Array {
  const pairs = Math.ceil(dim / 2);
  return Float64Array.from({ length: pairs }, (_, i) => Math.pow(base, (-2 * i) / dim));
}

/** fairseq `get_embedding`: half_dim = dim // 2, ω_i = exp(−i · ln(base) / (half_dim − 1)). */
function fairseqFrequencies(dim: number, base: number): Float64Array {
  const half = Math.floor(dim / 2);
  if (half < 2)
    throw new Error(
      `sinusoidTable: layout 'fairseq' needs dim ≥ 4 (its step ln(base)/(dim/2 − 1) divides by zero below), got dim = ${dim}`,
    );
  const step = Math.log(base) / (half - 1);
  return Float64Array.from({ length: half }, (_, i) => Math.exp(-i * step));
}

export const sinusoidalSchema = {
  layout: {
    type: 'enum',
    values: ['interleaved', 'fairseq'],
    default: 'interleaved',
    doc: "'interleaved' = Vaswani (sin even, cos odd features); 'fairseq' = [sin half | cos half] as fairseq/Shortformer",
  },
  base: { type: 'number', greaterThan: 1, default: 10000, doc: 'wavelength base' },
  scale: {
    type: 'number',
    optional: true,
    doc: "multiplies the sinusoids before they are added; default 0.02, the token embeddings' init std (see SinusoidalEncoding.embed)",
  },
  paddingIdx: {
    type: 'number',
    integer: true,
    min: 0,
    optional: true,
    doc: "fairseq numbering: position p is evaluated at p + paddingIdx + 1 (fairseq's make_positions) and row paddingIdx is zero",
  },
} as const satisfies Schema;

export type SinusoidalConfig = ConfigOf<typeof sinusoidalSchema>;

export class SinusoidalEncoding implements PositionEncoding {
  readonly name = 'sinusoidal';

  constructor(readonly config: SinusoidalConfig) {}

  get supports(): readonly AttentionKind[] {
    return supportedAttention(sinusoidalDefinition, this.config);
  }

  /** x + sinusoids of the position ids; `[B,N,C]`. */
  embed(x: tf.Tensor3D, positions: Positions): tf.Tensor3D {
    // Unit-amplitude sinusoids swamp token embeddings initialised at std 0.02 (GPT-2 style):
    // measured on the tiny LM, scale 1 or 1/√C leaves the loss at the unigram entropy after 200
    // steps while 0.02 learns like no PE. Vaswani (§3.4) and fairseq (embed_scale) balance the
    // two by scaling the embeddings up by √C instead; pass scale: 1 with such a model.
    const options = { ...this.config, scale: this.config.scale ?? EMBEDDING_INIT_STD };
    return positions.kind === '2d'
      ? addGridSinusoids(x, positions, options, 'sinusoidal encoding')
      : addSinusoids(x, positions, options, 'sinusoidal encoding');
  }
}

/**
 * x `[B,N,C]` + the sinusoids of its position ids `[B or 1, N]`. The ids are read back so the
 * table is computed in float64 (see sinusoidTable); each distinct id is computed once, since
 * batch rows usually share their ids. `who` names the caller in errors.
 */
export function addSinusoids(
  x: tf.Tensor3D,
  positions: Positions,
  options: SinusoidOptions,
  who: string,
): tf.Tensor3D {
  const ids = require1D(positions, who).ids;
  const [batch, length] = ids.shape;
  const dim = x.shape[2];
  if (length !== x.shape[1] || (batch !== 1 && batch !== x.shape[0]))
    throw new Error(
      `${who}: positions [${ids.shape}] do not fit the input [${x.shape}]; expected [${x.shape[0]} or 1, ${x.shape[1]}]`,
    );
  return tf.tidy(() => tf.add(x, sinusoidsAt(ids, dim, options)));
}

/** Sinusoids `[B, N, dim]` of the ids `[B, N]`, each distinct id computed once. */
function sinusoidsAt(ids: tf.Tensor2D, dim: number, options: SinusoidOptions): tf.Tensor3D {
  // fairseq numbers real tokens from padding_idx + 1 (utils.make_positions).
  const offset = options.paddingIdx === undefined ? 0 : options.paddingIdx + 1;
  const { values, rowOf } = distinctValues(ids.dataSync(), offset);
  const table = sinusoidTable(values, dim, options);
  return tf.tidy(() => {
    const rows = tf.tensor2d(Float32Array.from(table), [values.length, dim]);
    return tf.gather(rows, tf.tensor2d(rowOf, ids.shape, 'int32')) as unknown as tf.Tensor3D;
  });
}

/** x + [sinusoids of the row | sinusoids of the column] on the grid tokens; skip tokens get zeros. */
export function addGridSinusoids(
  x: tf.Tensor3D,
  positions: GridPositions,
  options: SinusoidOptions,
  who: string,
): tf.Tensor3D {
  const [batch, cells] = positions.rows.shape;
  const dim = x.shape[2];
  const { skip } = positions;
  if (skip + cells !== x.shape[1] || (batch !== 1 && batch !== x.shape[0]))
    throw new Error(
      `${who}: grid positions of [${batch}, ${skip} + ${cells}] tokens do not fit the input [${x.shape}]; expected [${x.shape[0]} or 1, ${x.shape[1]}]`,
    );
  if (dim % 2 !== 0)
    throw new Error(
      `${who}: 2D sinusoids give half the features to the row and half to the column; the input has an odd number of features (${dim})`,
    );
  return tf.tidy(() => {
    const grid = tf.concat(
      [
        sinusoidsAt(positions.rows, dim / 2, options),
        sinusoidsAt(positions.cols, dim / 2, options),
      ],
      2,
    );
    const skipped = tf.zeros([batch, skip, dim]);
    return tf.add(x, tf.concat([skipped, grid], 1)) as tf.Tensor3D;
  });
}

/** Distinct `ids + offset` and, for each id, the index of its value. */
function distinctValues(
  ids: ArrayLike<number>,
  offset: number,
): { values: number[]; rowOf: Int32Array } {
  const indexOf = new Map<number, number>();
  const values: number[] = [];
  const rowOf = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const value = ids[i]! + offset;
    let row = indexOf.get(value);
    if (row === undefined) {
      row = values.length;
      indexOf.set(value, row);
      values.push(value);
    }
    rowOf[i] = row;
  }
  return { values, rowOf };
}

export const sinusoidalDefinition: EncodingDefinition<typeof sinusoidalSchema> = {
  name: 'sinusoidal',
  description:
    'Fixed sinusoids added to the token embeddings at the explicit (possibly fractional) positions; on a 2D grid half the features for the row, half for the column',
  paper: 'Vaswani et al. 2017, arXiv 1706.03762',
  package: '@posenc/core',
  schema: sinusoidalSchema,
  supports: ['softmax', 'linear'],
  positions: { kinds: ['1d', '2d'], fractional: true },
  create: (config) => new SinusoidalEncoding(config),
};
