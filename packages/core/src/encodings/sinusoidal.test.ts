import { describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { decodeToFloat32 } from '../io/safetensors.js';
import {
  disposePositions,
  gridPositions,
  positionsFromIds,
  sequencePositions,
} from '../positions/positions.js';
import {
  expectClose,
  goldenCaseFiles,
  goldenEntry,
  maxAbsDiff,
  onCpuWithoutLeaks,
  readGoldenCase,
} from '../testing/index.js';
import { sinusoidTable, SinusoidalEncoding } from './sinusoidal.js';

onCpuWithoutLeaks();

/** `get_embedding(num_embeddings, embedding_dim, padding_idx)` of fairseq, as each case states it. */
interface FairseqTableConfig {
  num_embeddings: number;
  embedding_dim: number;
  padding_idx?: number;
}

/** Vaswani et al. §3.5 written out for one feature. */
function vaswani(position: number, feature: number, dim: number): number {
  const angle = position / Math.pow(10000, (2 * Math.floor(feature / 2)) / dim);
  return feature % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
}

describe('sinusoidTable', () => {
  for (const file of goldenCaseFiles('sinusoid'))
    it(`layout fairseq equals get_embedding: ${file}`, async () => {
      const golden = await readGoldenCase('sinusoid', file);
      const config = golden.config as unknown as FairseqTableConfig;
      const { num_embeddings: rows, embedding_dim: dim, padding_idx: paddingIdx } = config;
      const entry = goldenEntry(golden, 'expected');
      expect(entry.shape).toEqual([rows, dim]);
      // Row p of get_embedding is position p; the padding row (if any) is zero.
      const positions = Array.from({ length: rows }, (_, p) => p);
      const actual = sinusoidTable(positions, dim, { layout: 'fairseq', paddingIdx });
      expect(maxAbsDiff(actual.map(Math.fround), decodeToFloat32(entry))).toBeLessThanOrEqual(1e-5);
      if (dim % 2 === 1) for (let p = 0; p < rows; p++) expect(actual[p * dim + dim - 1]).toBe(0);
    });

  it('defaults to a table scaled like the token embeddings (0.02), so it does not swamp them', () => {
    const encoding = new SinusoidalEncoding({ layout: 'interleaved', base: 10000 });
    const x = tf.zeros([1, 3, 16]) as tf.Tensor3D;
    const positions = sequencePositions(1, 3);
    const added = tf.tidy(() => encoding.embed(x, positions).dataSync());
    const unit = sinusoidTable([0, 1, 2], 16, { layout: 'interleaved' });
    added.forEach((v, i) => expect(v).toBeCloseTo(unit[i]! * 0.02, 7));
    tf.dispose([x, positions.ids]);
  });

  it('zeroes the padding row and scales the rest, as fairseq and the scale option do', () => {
    const plain = sinusoidTable([0, 1, 2, 3], 8, { layout: 'fairseq' });
    const scaled = sinusoidTable([0, 1, 2, 3], 8, { layout: 'fairseq', paddingIdx: 1, scale: 2 });
    for (let j = 0; j < 8; j++) {
      expect(scaled[8 + j]).toBe(0);
      expect(scaled[16 + j]).toBeCloseTo(2 * plain[16 + j]!, 14);
    }
  });

  it('layout interleaved follows Vaswani et al. (sin at even, cos at odd features), odd dims too', () => {
    for (const dim of [8, 7]) {
      const positions = [0, 3, 17, 511];
      const table = sinusoidTable(positions, dim, { layout: 'interleaved' });
      positions.forEach((position, row) => {
        for (const feature of [0, 1, 2, 5, dim - 1])
          expect(table[row * dim + feature]).toBeCloseTo(vaswani(position, feature, dim), 12);
      });
    }
    expect(sinusoidTable([3], 8)[0]).toBe(Math.sin(3));
  });

  it('evaluates fractional positions from the formula: between the neighbours where the sinusoid is monotone', () => {
    const dim = 16;
    const [below, at, above] = [2, 2.5, 3].map((p) => sinusoidTable([p], dim));
    let checked = 0;
    for (let feature = 0; feature < dim; feature++) {
      expect(at![feature]).toBeCloseTo(vaswani(2.5, feature, dim), 14);
      const frequency = 1 / Math.pow(10000, (2 * Math.floor(feature / 2)) / dim);
      // sin has extrema at π/2 + kπ, cos at kπ: skip features with one inside [2ω, 3ω].
      const phase = feature % 2 === 0 ? Math.PI / 2 : 0;
      const extremumInside =
        Math.floor((3 * frequency - phase) / Math.PI) !==
        Math.floor((2 * frequency - phase) / Math.PI);
      if (extremumInside) continue;
      const [low, high] = [below![feature]!, above![feature]!].sort((a, b) => a - b);
      expect(at![feature]).toBeGreaterThan(low!);
      expect(at![feature]).toBeLessThan(high!);
      checked++;
    }
    expect(checked).toBeGreaterThan(dim / 2);
  });

  it('rejects a fairseq dim whose frequency step would divide by zero', () => {
    expect(() => sinusoidTable([0], 3, { layout: 'fairseq' })).toThrow(/dim ≥ 4.*dim = 3/);
    expect(() => sinusoidTable([0], 0)).toThrow(/dim = 0/);
  });
});

describe('SinusoidalEncoding', () => {
  it('adds the float64 sinusoids of explicit, fractional and large positions, per batch row', () => {
    const encoding = new SinusoidalEncoding({ layout: 'interleaved', base: 10000, scale: 1 });
    const ids = [
      [0, 2.5, 1000.25],
      [7, 2.5, 3],
    ];
    const x = tf.ones([2, 3, 6]) as tf.Tensor3D;
    const positions = positionsFromIds(ids);
    const out = encoding.embed(x, positions);
    const values = out.arraySync();
    ids.forEach((row, b) =>
      row.forEach((position, i) => {
        const expected = sinusoidTable([position], 6);
        for (let j = 0; j < 6; j++) expect(values[b]![i]![j]).toBeCloseTo(1 + expected[j]!, 6);
      }),
    );
    tf.dispose([x, out]);
    disposePositions(positions);
  });

  it('broadcasts one row of positions over the batch; paddingIdx numbers positions from paddingIdx + 1', () => {
    const encoding = new SinusoidalEncoding({
      layout: 'fairseq',
      base: 10000,
      scale: 3,
      paddingIdx: 1,
    });
    const x = tf.zeros([2, 2, 8]) as tf.Tensor3D;
    const positions = positionsFromIds([[0, 1]]);
    const out = encoding.embed(x, positions);
    const values = out.arraySync();
    const expected = sinusoidTable([2, 3], 8, { layout: 'fairseq', scale: 3 });
    for (let b = 0; b < 2; b++)
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 8; j++) expect(values[b]![i]![j]).toBeCloseTo(expected[i * 8 + j]!, 6);
    tf.dispose([x, out]);
    disposePositions(positions);
  });

  it('on a grid: the row sinusoids in the first half of the features, the column ones in the second, none on skip tokens', () => {
    const encoding = new SinusoidalEncoding({ layout: 'interleaved', base: 100, scale: 1 });
    const x = tf.fill([1, 1 + 6, 8], 0.5) as tf.Tensor3D;
    const positions = gridPositions(1, 2, 3, 1);
    const embedded = encoding.embed(x, positions);
    const out = embedded.arraySync()[0]!;
    expect(out[0]).toEqual(new Array(8).fill(0.5));
    for (let i = 0; i < 6; i++) {
      const [r, c] = [Math.floor(i / 3), i % 3];
      const row = sinusoidTable([r], 4, { base: 100 });
      const col = sinusoidTable([c], 4, { base: 100 });
      expectClose(
        out[1 + i]!,
        [...row, ...col].map((v) => v + 0.5),
        { atol: 1e-6 },
      );
    }
    const odd = tf.zeros([1, 7, 5]) as tf.Tensor3D;
    expect(() => encoding.embed(odd, positions)).toThrow(/odd number of features \(5\)/);
    tf.dispose([x, odd, embedded]);
    disposePositions(positions);
  });

  it('names the shapes when positions do not fit the embeddings', () => {
    const encoding = new SinusoidalEncoding({ layout: 'interleaved', base: 10000, scale: 1 });
    const x = tf.zeros([1, 3, 4]) as tf.Tensor3D;
    const positions = positionsFromIds([[0, 1]]);
    expect(() => encoding.embed(x, positions)).toThrow(
      /positions \[1,2\] do not fit the input \[1,3,4\]/,
    );
    tf.dispose(x);
    disposePositions(positions);
  });
});
