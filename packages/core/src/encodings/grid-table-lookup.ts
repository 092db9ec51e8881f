/**
 * A learned table of a 2D grid looked up at grid positions: the rows of the training grid
 * (`skip` rows for the skip tokens, then height × width cells row-major, DeiT's `pos_embed`
 * layout) read at each token's (row, column). An image of another size has another grid of
 * patches over the same field of view, so the table is resampled to that grid as DeiT
 * fine-tunes at a new resolution: bilinear with half-pixel centres (PyTorch's
 * `F.interpolate(..., align_corners=False)`), which gives the table's own rows on the training
 * grid. DeiT resamples bicubically; bilinear stays within the learned values.
 */
import { tf } from '../engine/tf.js';
import type { GridPositions, GridShape } from '../positions/positions.js';
import type { TableInterpolation } from './learned-absolute.js';

/** What the lookup needs to know of the positions, read back once from their tensors. */
interface GridValues {
  /** Position rows (1 when every batch row has the same positions). */
  readonly rows: number;
  readonly tokens: number;
  readonly row: Float32Array;
  readonly col: Float32Array;
}

function gridValues(p: GridPositions): GridValues {
  const row = p.rows.dataSync() as Float32Array;
  const col = p.cols.dataSync() as Float32Array;
  const [rows, tokens] = p.rows.shape;
  const same = (a: Float32Array) => {
    for (let i = tokens; i < a.length; i++) if (a[i] !== a[i % tokens]) return false;
    return true;
  };
  return same(row) && same(col)
    ? { rows: 1, tokens, row: row.subarray(0, tokens), col: col.subarray(0, tokens) }
    : { rows, tokens, row, col };
}

/**
 * Source coordinate of grid index `index` on an axis of `size` cells when the table's axis has
 * `tableSize` cells (half-pixel centres; the identity when the sizes are equal).
 */
function sourceCoordinate(index: number, size: number, tableSize: number): number {
  return size === tableSize ? index : ((index + 0.5) * tableSize) / size - 0.5;
}

/** Neighbouring cells and weights of coordinate `v` on an axis of `size` cells, clamped at the ends. */
function taps(v: number, size: number): [number, number, number, number] {
  const clamped = Math.min(Math.max(v, 0), size - 1);
  const lower = Math.floor(clamped);
  const upper = Math.min(lower + 1, size - 1);
  const w = clamped - lower;
  return [lower, 1 - w, upper, w];
}

/**
 * Table rows at the positions `[P, N, C]` (P = 1 when every batch row has the same positions,
 * else the positions' batch), as a product of a `[P, N, T]` interpolation matrix with the table
 * `[T, C]`, so the gradient reaches every row it mixes. `none`: no resampling, positions must be
 * integer cells of the table; `linear`: resampled to the positions' grid (when it declares its
 * size) and interpolated, clamped at the edges.
 */
export function lookupGridTable(
  table: tf.Tensor2D,
  grid: GridShape,
  positions: GridPositions,
  interpolate: TableInterpolation,
): tf.Tensor3D {
  const who = 'learned position table';
  if (positions.skip !== grid.skip)
    throw new Error(
      `${who}: positions have ${positions.skip} skip token(s), the table was built for ${grid.skip}`,
    );
  const values = gridValues(positions);
  const { skip, height, width } = grid;
  const cells = values.tokens;
  const n = skip + cells;
  const t = table.shape[0];
  const matrix = new Float32Array(values.rows * n * t);
  const targetHeight = interpolate === 'linear' ? (positions.height ?? height) : height;
  const targetWidth = interpolate === 'linear' ? (positions.width ?? width) : width;
  for (let b = 0; b < values.rows; b++) {
    const base = b * n * t;
    for (let s = 0; s < skip; s++) matrix[base + s * t + s] = 1;
    for (let i = 0; i < cells; i++) {
      const r = values.row[b * cells + i]!;
      const c = values.col[b * cells + i]!;
      const out = base + (skip + i) * t + skip;
      if (interpolate === 'none') {
        if (!Number.isInteger(r) || !Number.isInteger(c) || r < 0 || c < 0)
          throw new Error(
            `${who}: grid position (${r}, ${c}) (batch ${b}, token ${skip + i}) is not a cell of the ${height}×${width} table; set interpolate: 'linear' to interpolate`,
          );
        if (r >= height || c >= width)
          throw new Error(
            `${who}: grid position (${r}, ${c}) (batch ${b}, token ${skip + i}) is outside the ${height}×${width} table; set interpolate: 'linear' to resample the table to the image's grid`,
          );
        matrix[out + r * width + c] = 1;
        continue;
      }
      const [r0, wr0, r1, wr1] = taps(sourceCoordinate(r, targetHeight, height), height);
      const [c0, wc0, c1, wc1] = taps(sourceCoordinate(c, targetWidth, width), width);
      // += : at an edge both taps are the same cell.
      matrix[out + r0 * width + c0] += wr0 * wc0;
      matrix[out + r0 * width + c1] += wr0 * wc1;
      matrix[out + r1 * width + c0] += wr1 * wc0;
      matrix[out + r1 * width + c1] += wr1 * wc1;
    }
  }
  return tf.tidy(() =>
    tf.matMul(tf.tensor3d(matrix, [values.rows, n, t]), tf.expandDims(table, 0)),
  ) as tf.Tensor3D;
}
