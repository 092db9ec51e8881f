import { describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { disposePositions, positionsFromIds } from '../positions/positions.js';
import {
  checkGradientsByFiniteDifferences,
  onCpuWithoutLeaks,
  testBuildSpec,
} from '../testing/index.js';
import {
  LearnedAbsoluteEncoding,
  lookupPositionTable,
  POSITION_TABLE_NAME,
} from './learned-absolute.js';

onCpuWithoutLeaks();

const spec = testBuildSpec({ layers: 2, heads: 2, headDim: 2, maxPositions: 10, seed: 3 });

/** Table rows i·10 + j, so every row is recognisable. */
function countingTable(rows: number, dim: number): tf.Tensor2D {
  return tf.tensor2d(
    Array.from({ length: rows }, (_, i) => Array.from({ length: dim }, (_, j) => 10 * i + j)),
  );
}

describe('lookupPositionTable', () => {
  it('returns the table rows at integer positions, with and without interpolation', () => {
    const table = countingTable(5, 3);
    const ids = tf.tensor2d([
      [0, 4, 2],
      [1, 1, 3],
    ]);
    for (const interpolate of ['linear', 'none'] as const) {
      const rows = lookupPositionTable(table, ids, interpolate);
      expect(rows.arraySync()).toEqual([
        [
          [0, 1, 2],
          [40, 41, 42],
          [20, 21, 22],
        ],
        [
          [10, 11, 12],
          [10, 11, 12],
          [30, 31, 32],
        ],
      ]);
      rows.dispose();
    }
    tf.dispose([table, ids]);
  });

  it('interpolates linearly between neighbouring rows and clamps at the ends', () => {
    const table = countingTable(5, 2);
    const ids = tf.tensor2d([[2.25, 0.5, -3, 4.5, 3.999]]);
    const rows = tf.tidy(() => lookupPositionTable(table, ids, 'linear').arraySync()[0]!);
    const expected = [
      [22.5, 23.5],
      [5, 6],
      [0, 1],
      [40, 41],
      [39.99, 40.99],
    ];
    rows.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 3)));
    tf.dispose([table, ids]);
  });

  it("interpolate 'none' names the position and the table size", () => {
    const table = countingTable(5, 2);
    const outside = tf.tensor2d([
      [0, 1],
      [2, 7],
    ]);
    const fractional = tf.tensor2d([[0, 1.5]]);
    expect(() => lookupPositionTable(table, outside, 'none')).toThrow(
      /position 7 \(batch 1, token 1\) is outside the table of 5 positions \(0…4\)/,
    );
    expect(() => lookupPositionTable(table, fractional, 'none')).toThrow(
      /position 1.5 \(batch 0, token 1\) is not an integer/,
    );
    tf.dispose([table, outside, fractional]);
  });

  it('passes gradients to the table rows, matching finite differences', () => {
    const table = tf.tidy(() =>
      tf.variable(
        tf.tensor2d([
          [0.3, -0.2],
          [0.5, 0.1],
          [-0.4, 0.7],
        ]),
      ),
    );
    const ids = tf.tensor2d([[0.25, 1.5, 2, 2.8]]);
    const lookup = () => [tf.square(lookupPositionTable(table, ids, 'linear'))];
    checkGradientsByFiniteDifferences(lookup, { table }, { seed: 1, sampledEntries: 6 });
    // Row 0 only feeds position 0.25, so its gradient is nonzero; every row is reached.
    const gradient = tf.tidy(
      () =>
        tf
          .grad((t: tf.Tensor) => tf.sum(lookupPositionTable(t as tf.Tensor2D, ids, 'linear')))(
            table,
          )
          .arraySync() as number[][],
    );
    gradient.forEach((row) => expect(Math.abs(row[0]!) + Math.abs(row[1]!)).toBeGreaterThan(0));
    tf.dispose([table, ids]);
  });
});

describe('LearnedAbsoluteEncoding', () => {
  it('builds a seeded [maxPositions, modelDim] table named embed.position_table', () => {
    const a = new LearnedAbsoluteEncoding({ interpolate: 'linear' });
    const b = new LearnedAbsoluteEncoding({ interpolate: 'linear' });
    a.build(spec);
    b.build(spec);
    const [name, table] = Object.entries(a.parameters())[0]!;
    expect(name).toBe(POSITION_TABLE_NAME);
    expect(table.shape).toEqual([10, 4]);
    expect(table.arraySync()).toEqual(b.parameters()[POSITION_TABLE_NAME]!.arraySync());
    const std = Math.sqrt(tf.tidy(() => tf.mean(tf.square(table)).dataSync()[0]!));
    expect(std).toBeGreaterThan(0.005);
    expect(std).toBeLessThan(0.03);
    a.dispose();
    b.dispose();
    expect(a.parameters()).toEqual({});
  });

  it('adds the looked-up rows to the embeddings and gives the table a gradient', () => {
    const encoding = new LearnedAbsoluteEncoding({ interpolate: 'linear' });
    encoding.build(spec);
    const table = encoding.parameters()[POSITION_TABLE_NAME]!;
    const x = tf.ones([2, 3, 4]) as tf.Tensor3D;
    const positions = positionsFromIds([[0, 3, 9]]);
    const out = encoding.embed(x, positions);
    const rows = table.arraySync() as number[][];
    out
      .arraySync()
      .forEach((batchRow) =>
        [0, 3, 9].forEach((p, i) =>
          batchRow[i]!.forEach((v, j) => expect(v).toBeCloseTo(1 + rows[p]![j]!, 6)),
        ),
      );
    out.dispose();
    const { value, grads } = tf.variableGrads(
      () => tf.sum(encoding.embed(x, positions)) as tf.Scalar,
      [table],
    );
    const gradient = grads[table.name]!.arraySync() as number[][];
    // Each position appears once in each of the 2 batch rows.
    gradient.forEach((row, p) => row.forEach((g) => expect(g).toBe([0, 3, 9].includes(p) ? 2 : 0)));
    tf.dispose([value, ...Object.values(grads)]);
    tf.dispose(x);
    disposePositions(positions);
    encoding.dispose();
  });

  it('explains a missing build and a feature count that differs from the table', () => {
    const encoding = new LearnedAbsoluteEncoding({ interpolate: 'none' });
    const x = tf.zeros([1, 2, 3]) as tf.Tensor3D;
    const positions = positionsFromIds([[0, 1]]);
    expect(() => encoding.embed(x, positions)).toThrow(/build\(spec\) must be called/);
    encoding.build(spec);
    expect(() => encoding.embed(x, positions)).toThrow(
      /embeddings \[1,2,3\] have 3 features, the table \[10, 4\] has 4/,
    );
    tf.dispose(x);
    disposePositions(positions);
    encoding.dispose();
  });
});
