import { beforeAll, describe, expect, it } from 'vitest';
import {
  createEncoding,
  DecoderLM,
  POSITION_TABLE_NAME,
  positionsFromIds,
  sequencePositions,
  tf,
} from '@posenc/core';
import { extendPositionTable, interpolatePositionTable } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The formula, written out row by row in float64. */
function formula(p: number[][], r: number): number[][] {
  const t = p.length;
  return Array.from({ length: r * t }, (_, j) => {
    const i = Math.floor(j / r);
    const k = j % r;
    if (i >= t - 1) return [...p[t - 1]!];
    return p[i]!.map((v, c) => v + (k / r) * (p[i + 1]![c]! - v));
  });
}

describe('interpolatePositionTable', () => {
  it('row j = P[i] + (k/r)(P[i+1] − P[i]), i = ⌊j/r⌋, k = j mod r; rows past the last pair repeat P[T−1]', () => {
    for (const [rows, dim] of [
      [5, 3],
      [1, 4],
      [7, 8],
    ] as const)
      for (const r of [1, 2, 3, 4]) {
        const table = tf.randomNormal([rows, dim], 0, 1, 'float32', rows * 10 + r) as tf.Tensor2D;
        const p = table.arraySync();
        const got = interpolatePositionTable(table, r);
        expect(got.shape).toEqual([r * rows, dim]);
        const values = got.arraySync();
        formula(p, r).forEach((row, j) =>
          row.forEach((v, c) => expect(values[j]![c]).toBeCloseTo(v, 6)),
        );
        // The original rows sit exactly at the multiples of r; the tail is the last row.
        p.forEach((row, i) => expect(values[i * r]).toEqual(row));
        for (let j = (rows - 1) * r; j < rows * r; j++) expect(values[j]).toEqual(p[rows - 1]);
        tf.dispose([table, got]);
      }
  });

  it('rejects a non-integer factor and leaks nothing', () => {
    const table = tf.ones([3, 2]) as tf.Tensor2D;
    expect(() => interpolatePositionTable(table, 1.5)).toThrow(
      /r = 1.5 is not allowed; expected an integer ≥ 1/,
    );
    expect(() => interpolatePositionTable(table, 0)).toThrow(/r = 0/);
    const before = tf.memory().numTensors;
    interpolatePositionTable(table, 3).dispose();
    expect(tf.memory().numTensors).toBe(before);
    table.dispose();
  });
});

describe('extendPositionTable', () => {
  const config = { vocabSize: 30, modelDim: 16, layers: 2, heads: 2, maxPositions: 8, seed: 4 };

  function trainedAtLt(): DecoderLM {
    // 'none' rejects positions past the table, so running past Lt fails loudly before extension.
    const model = new DecoderLM(config, [createEncoding({ name: 'learned', interpolate: 'none' })]);
    const table = model.parameters()[POSITION_TABLE_NAME]!;
    table.assign(tf.randomNormal(table.shape, 0, 0.5, 'float32', 8));
    return model;
  }

  it('a model trained at Lt runs at 4·Lt after extension, and not before', () => {
    const model = trainedAtLt();
    const tokens = tf.tensor2d([Array.from({ length: 32 }, (_, i) => i % 30)], [1, 32], 'int32');
    expect(() => model.forward(tokens)).toThrow(/outside the table of 8 positions/);
    const extended = extendPositionTable(model, 4);
    expect(extended.config.maxPositions).toBe(32);
    const before = tf.memory().numTensors;
    const logits = tf.tidy(() => extended.forward(tokens).logits);
    expect(logits.shape).toEqual([1, 32, 30]);
    expect(logits.dataSync().every(Number.isFinite)).toBe(true);
    logits.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(tokens);
    model.dispose();
    extended.dispose();
  });

  it('copies every other weight: at positions r·i the extended model equals the original at i', () => {
    const model = trainedAtLt();
    const extended = extendPositionTable(model, 4);
    const old = model.parameters();
    for (const [name, v] of Object.entries(extended.parameters()))
      if (name !== POSITION_TABLE_NAME)
        expect(Array.from(v.dataSync())).toEqual(Array.from(old[name]!.dataSync()));
    const tokens = tf.tensor2d([[3, 1, 4, 1, 5, 9, 2, 6]], [1, 8], 'int32');
    const original = sequencePositions(1, 8);
    const stretched = positionsFromIds([Array.from({ length: 8 }, (_, i) => 4 * i)]);
    const a = tf.tidy(() => model.forward(tokens, { positions: original }).logits);
    const b = tf.tidy(() => extended.forward(tokens, { positions: stretched }).logits);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    // The original model is untouched and still runs at its own length.
    expect(model.parameters()[POSITION_TABLE_NAME]!.shape).toEqual([8, 16]);
    tf.dispose([tokens, original.ids, stretched.ids, a, b]);
    model.dispose();
    extended.dispose();
  });

  it('rejects a model without a learned table, and a bad factor', () => {
    const model = new DecoderLM(config, [createEncoding({ name: 'alibi' })]);
    expect(() => extendPositionTable(model, 4)).toThrow(
      /no 'embed.position_table' parameter .*encodings are alibi/,
    );
    const learned = trainedAtLt();
    expect(() => extendPositionTable(learned, 2.5)).toThrow(/r = 2.5/);
    model.dispose();
    learned.dispose();
  });
});
