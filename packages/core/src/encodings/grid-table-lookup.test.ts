import { describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { disposePositions, gridPositions, type GridPositions } from '../positions/positions.js';
import {
  checkGradientsByFiniteDifferences,
  expectClose,
  onCpuWithoutLeaks,
  testBuildSpec,
} from '../testing/index.js';
import { lookupGridTable } from './grid-table-lookup.js';
import { LearnedAbsoluteEncoding, POSITION_TABLE_NAME } from './learned-absolute.js';

onCpuWithoutLeaks();

const GRID = { height: 3, width: 4, skip: 1 };
const DIM = 5;
const spec = testBuildSpec({ heads: 1, headDim: DIM, maxPositions: 13, grid: GRID });

/** A table `[1 + 3·4, 5]` of distinct values. */
function randomTable(seed: number): tf.Tensor2D {
  return tf.randomNormal([GRID.skip + GRID.height * GRID.width, DIM], 0, 1, 'float32', seed);
}

/**
 * The oracle for resampling: TF.js's own bilinear image resize with half-pixel centres, applied
 * to the table's cells as an image `[1, 3, 4, 5]` (what DeiT does with F.interpolate).
 */
function resizedCells(table: tf.Tensor2D, height: number, width: number): tf.Tensor2D {
  return tf.tidy(() => {
    const cells = table.slice([GRID.skip, 0], [-1, -1]).reshape([1, GRID.height, GRID.width, DIM]);
    const resized = tf.image.resizeBilinear(cells as tf.Tensor4D, [height, width], false, true);
    return resized.reshape([height * width, DIM]);
  });
}

describe('lookupGridTable', () => {
  it('gives the table rows on the training grid, skip rows first, with and without interpolation', () => {
    const table = randomTable(1);
    const positions = gridPositions(2, GRID.height, GRID.width, GRID.skip);
    for (const interpolate of ['linear', 'none'] as const) {
      const rows = lookupGridTable(table, GRID, positions, interpolate);
      // Every batch row has the same positions: one row of outputs, broadcast over the batch.
      expect(rows.shape).toEqual([1, 13, DIM]);
      expectClose(rows, table, { atol: 1e-6 });
      rows.dispose();
    }
    disposePositions(positions);
    table.dispose();
  });

  it("resamples to another image's grid as a bilinear resize with half-pixel centres", () => {
    const table = randomTable(2);
    for (const [height, width] of [
      [6, 8],
      [5, 7],
      [2, 2],
    ] as const) {
      const positions = gridPositions(1, height, width, GRID.skip);
      const rows = lookupGridTable(table, GRID, positions, 'linear');
      const expected = tf.tidy(() =>
        tf.concat([table.slice([0, 0], [GRID.skip, -1]), resizedCells(table, height, width)]),
      );
      expectClose(rows, expected, { atol: 1e-5 });
      tf.dispose([rows, expected]);
      disposePositions(positions);
    }
    table.dispose();
  });

  it('reads each batch row at its own positions and interpolates fractional ones', () => {
    const table = randomTable(3);
    const positions: GridPositions = {
      kind: '2d',
      rows: tf.tensor2d([
        [0, 2, 1.5],
        [2, 0, 0.25],
      ]),
      cols: tf.tensor2d([
        [3, 1, 2.5],
        [0, 0, 1],
      ]),
      skip: 1,
    };
    const rows = lookupGridTable(table, GRID, positions, 'linear');
    const t = table.arraySync();
    const cell = (r: number, c: number) => t[1 + r * GRID.width + c]!;
    const mix = (a: number[], b: number[], w: number) => a.map((v, i) => (1 - w) * v + w * b[i]!);
    expectClose(
      rows,
      [
        [
          t[0]!,
          cell(0, 3),
          cell(2, 1),
          mix(mix(cell(1, 2), cell(1, 3), 0.5), mix(cell(2, 2), cell(2, 3), 0.5), 0.5),
        ],
        [t[0]!, cell(2, 0), cell(0, 0), mix(cell(0, 1), cell(1, 1), 0.25)],
      ],
      { atol: 1e-5 },
    );
    tf.dispose([rows, table]);
    disposePositions(positions);
  });

  it("interpolate 'none' names a position that is not a cell of the table, and skip counts must match", () => {
    const table = randomTable(4);
    const wider = gridPositions(1, 3, 5, 1);
    expect(() => lookupGridTable(table, GRID, wider, 'none')).toThrow(
      /grid position \(0, 4\) \(batch 0, token 5\) is outside the 3×4 table; set interpolate: 'linear'/,
    );
    const noSkip = gridPositions(1, 3, 4, 0);
    expect(() => lookupGridTable(table, GRID, noSkip, 'linear')).toThrow(
      /positions have 0 skip token\(s\), the table was built for 1/,
    );
    tf.dispose(table);
    disposePositions(wider);
    disposePositions(noSkip);
  });

  it('passes gradients to every table row it mixes, matching finite differences', () => {
    const table = tf.tidy(() => tf.variable(randomTable(5)));
    const positions = gridPositions(1, 5, 7, 1);
    checkGradientsByFiniteDifferences(
      () => [tf.square(lookupGridTable(table as tf.Tensor2D, GRID, positions, 'linear'))],
      { table },
      { seed: 2, sampledEntries: 6 },
    );
    tf.dispose(table);
    disposePositions(positions);
  });
});

describe('LearnedAbsoluteEncoding in a 2D model', () => {
  it("builds a table of the model's grid (skip tokens, then the cells) and adds it at grid positions", () => {
    const encoding = new LearnedAbsoluteEncoding({ interpolate: 'linear' });
    encoding.build(spec);
    const table = encoding.parameters()[POSITION_TABLE_NAME]!;
    expect(table.shape).toEqual([13, DIM]);
    const x = tf.ones([2, 13, DIM]) as tf.Tensor3D;
    const positions = gridPositions(2, GRID.height, GRID.width, GRID.skip);
    const out = encoding.embed(x, positions);
    const rows = (table.arraySync() as number[][]).map((row) => row.map((v) => 1 + v));
    expectClose(out, [rows, rows], { atol: 1e-6 });
    const larger = gridPositions(2, 6, 8, GRID.skip);
    const x2 = tf.zeros([2, 1 + 48, DIM]) as tf.Tensor3D;
    const resampled = encoding.embed(x2, larger);
    expect(resampled.shape).toEqual([2, 49, DIM]);
    tf.dispose([x, out, x2, resampled]);
    disposePositions(positions);
    disposePositions(larger);
    encoding.dispose();
  });

  it('refuses 2D positions when its model gave no grid', () => {
    const encoding = new LearnedAbsoluteEncoding({ interpolate: 'linear' });
    encoding.build(testBuildSpec({ heads: 1, headDim: DIM }));
    const x = tf.zeros([1, 13, DIM]) as tf.Tensor3D;
    const positions = gridPositions(1, 3, 4, 1);
    expect(() => encoding.embed(x, positions)).toThrow(/need a table built by a 2D model/);
    tf.dispose(x);
    disposePositions(positions);
    encoding.dispose();
  });
});
