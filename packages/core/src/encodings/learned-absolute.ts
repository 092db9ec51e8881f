/**
 * A learned table of absolute position vectors added to the token embeddings (Gehring et al.
 * 2017; BERT, GPT-2; ViT and DeiT's `pos_embed` in a 2D model). Positions are explicit ids, so a
 * fractional or out-of-range id is either interpolated between neighbouring rows or rejected,
 * never silently truncated. In a 2D model the table is the training grid, resampled to the grid
 * of an image of another size (see grid-table-lookup.ts).
 */
import { tf } from '../engine/tf.js';
import type { ConfigOf, Schema } from '../config/schema.js';
import type {
  AttentionKind,
  EncodingBuildSpec,
  PositionEncoding,
} from '../encoding/position-encoding.js';
import { supportedAttention, type EncodingDefinition } from '../encoding/registry.js';
import { MODEL_PARAMETER_SCOPES, scopedName } from '../encoding/parameter-scopes.js';
import { normalParameter } from '../nn/init.js';
import type { GridShape, Positions } from '../positions/positions.js';
import { lookupGridTable } from './grid-table-lookup.js';

/** The table's leaf name under the build spec's `embed` scope. */
export const POSITION_TABLE_LEAF = 'position_table';
/** The table's name in core's models: `embed.position_table`. */
export const POSITION_TABLE_NAME = scopedName(MODEL_PARAMETER_SCOPES.embed, POSITION_TABLE_LEAF);

export type TableInterpolation = 'linear' | 'none';

/**
 * Rows of `table` `[T,C]` at `ids` `[B,N]` → `[B,N,C]`, through gathers so gradients reach the
 * table. `linear`: a fractional id mixes its two neighbouring rows, and ids are clamped to
 * [0, T−1] first (the end rows extend past the table). `none`: every id must be an integer in
 * [0, T−1]; the ids are read back to check, and a bad one is named in the error.
 */
export function lookupPositionTable(
  table: tf.Tensor2D,
  ids: tf.Tensor2D,
  interpolate: TableInterpolation,
): tf.Tensor3D {
  const size = table.shape[0];
  if (interpolate === 'none') {
    assertTableIds(ids, size);
    return tf.tidy(() => tf.gather(table as tf.Tensor, tf.cast(ids, 'int32'))) as tf.Tensor3D;
  }
  return tf.tidy(() => {
    const clamped = tf.clipByValue(ids, 0, size - 1);
    const lower = tf.floor(clamped);
    const upper = tf.minimum(tf.add(lower, 1), size - 1);
    const upperWeight = tf.expandDims(tf.sub(clamped, lower), 2);
    const lowerRows = tf.gather(table, tf.cast(lower, 'int32'));
    const upperRows = tf.gather(table, tf.cast(upper, 'int32'));
    // (1 − w)·lower + w·upper is exactly the lower row at integer ids (w = 0).
    return tf.add(tf.mul(tf.sub(1, upperWeight), lowerRows), tf.mul(upperWeight, upperRows));
  }) as tf.Tensor3D;
}

function assertTableIds(ids: tf.Tensor2D, size: number): void {
  const values = ids.dataSync();
  const length = ids.shape[1];
  values.forEach((position, i) => {
    const where = `batch ${Math.floor(i / length)}, token ${i % length}`;
    if (!Number.isInteger(position))
      throw new Error(
        `learned position table: position ${position} (${where}) is not an integer; set interpolate: 'linear' to interpolate between rows`,
      );
    if (position < 0 || position >= size)
      throw new Error(
        `learned position table: position ${position} (${where}) is outside the table of ${size} positions (0…${size - 1}); set interpolate: 'linear' to clamp to the end rows`,
      );
  });
}

export const learnedSchema = {
  interpolate: {
    type: 'enum',
    values: ['linear', 'none'],
    default: 'linear',
    doc: "'linear' interpolates fractional positions and clamps out-of-range ones to the end rows (2D: resamples the grid table to the image's grid); 'none' rejects both",
  },
} as const satisfies Schema;

export type LearnedConfig = ConfigOf<typeof learnedSchema>;

export class LearnedAbsoluteEncoding implements PositionEncoding {
  readonly name = 'learned';
  private table: tf.Variable<tf.Rank.R2> | undefined;
  private tableName = '';
  /** The training grid of a 2D model: the table holds its skip tokens, then its cells. */
  private grid: GridShape | undefined;

  constructor(readonly config: LearnedConfig) {}

  get supports(): readonly AttentionKind[] {
    return supportedAttention(learnedDefinition, this.config);
  }

  /**
   * Creates the `[maxPositions, modelDim]` table, or in a 2D model `[skip + height·width,
   * modelDim]`; std 0.02 as BERT's `initializer_range` (timm's ViT: `trunc_normal_(std=.02)`).
   */
  build(spec: EncodingBuildSpec): void {
    this.table?.dispose();
    this.tableName = scopedName(spec.scopes.embed, POSITION_TABLE_LEAF);
    this.grid = spec.grid;
    const rows = spec.grid
      ? spec.grid.skip + spec.grid.height * spec.grid.width
      : spec.maxPositions;
    this.table = normalParameter(
      [rows, spec.modelDim],
      0.02,
      spec.seed,
      this.tableName,
    ) as tf.Variable<tf.Rank.R2>;
  }

  parameters(): Record<string, tf.Variable> {
    return this.table ? { [this.tableName]: this.table } : {};
  }

  dispose(): void {
    this.table?.dispose();
    this.table = undefined;
  }

  embed(x: tf.Tensor3D, positions: Positions): tf.Tensor3D {
    if (!this.table)
      throw new Error('learned position table: build(spec) must be called before embed');
    const [tableSize, tableDim] = this.table.shape;
    if (x.shape[2] !== tableDim)
      throw new Error(
        `learned position table: embeddings [${x.shape}] have ${x.shape[2]} features, the table [${tableSize}, ${tableDim}] has ${tableDim}`,
      );
    const table = this.table;
    if (positions.kind === '2d') {
      const grid = this.grid;
      if (!grid)
        throw new Error(
          'learned position table: 2D positions need a table built by a 2D model (a build spec with a grid)',
        );
      const tokens = positions.skip + positions.rows.shape[1];
      if (tokens !== x.shape[1] || ![1, x.shape[0]].includes(positions.rows.shape[0]))
        throw new Error(
          `learned position table: grid positions of [${positions.rows.shape[0]}, ${tokens}] tokens do not fit embeddings [${x.shape}]`,
        );
      return tf.tidy(() =>
        tf.add(x, lookupGridTable(table, grid, positions, this.config.interpolate)),
      );
    }
    const ids = positions.ids;
    if (ids.shape[1] !== x.shape[1] || (ids.shape[0] !== 1 && ids.shape[0] !== x.shape[0]))
      throw new Error(
        `learned position table: positions [${ids.shape}] do not fit embeddings [${x.shape}]; expected [${x.shape[0]} or 1, ${x.shape[1]}]`,
      );
    return tf.tidy(() => tf.add(x, lookupPositionTable(table, ids, this.config.interpolate)));
  }
}

export const learnedDefinition: EncodingDefinition<typeof learnedSchema> = {
  name: 'learned',
  description:
    'Learned absolute position table added to the token embeddings, interpolated at fractional positions; in a 2D model a table of the training grid, resampled to the grid of other image sizes',
  paper: 'Gehring et al. 2017, arXiv 1705.03122',
  package: '@posenc/core',
  schema: learnedSchema,
  supports: ['softmax', 'linear'],
  positions: (config) => ({ kinds: ['1d', '2d'], fractional: config.interpolate === 'linear' }),
  create: (config) => new LearnedAbsoluteEncoding(config),
};
