import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { gatherLast, scatterAddLast } from './gather-last.js';

const values = (seed: number, n: number) =>
  Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 3);
const INDEX = [3, 0, 3, 1, 4, 4, 4];
const [ROWS, SIZE] = [2, 6];

describe('gatherLast and scatterAddLast (composite TF.js ops)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('read and sum by the shared index, row by row, as the definition', () => {
    const x = values(1, ROWS * SIZE);
    const y = values(2, ROWS * INDEX.length);
    const [gathered, scattered] = tf.tidy(() => {
      const index = tf.tensor1d(INDEX, 'int32');
      return [
        Array.from(gatherLast(tf.tensor2d(x, [ROWS, SIZE]), index).dataSync()),
        Array.from(scatterAddLast(tf.tensor2d(y, [ROWS, INDEX.length]), index, SIZE).dataSync()),
      ];
    });
    const expectedGather: number[] = [];
    const expectedScatter = new Array<number>(ROWS * SIZE).fill(0);
    for (let r = 0; r < ROWS; r++)
      INDEX.forEach((s, p) => {
        expectedGather.push(x[r * SIZE + s]!);
        expectedScatter[r * SIZE + s]! += y[r * INDEX.length + p]!;
      });
    gathered!.forEach((v, i) => expect(v).toBeCloseTo(expectedGather[i]!, 5));
    scattered!.forEach((v, i) => expect(v).toBeCloseTo(expectedScatter[i]!, 5));
    // Size 6 has a column no index picks (5): its sums are zero.
    expect(scattered![5]).toBe(0);
  });

  it('bad input is an error naming it, nothing computed', () => {
    const before = tf.memory().numTensors;
    const x = tf.ones([2, 3]);
    const floats = tf.tensor1d([0, 1]);
    const pairs = tf.ones([2, 2]);
    const index = tf.tensor1d([0, 1], 'int32');
    expect(() => gatherLast(x, floats as tf.Tensor1D)).toThrow(/index must be an int32 vector/);
    expect(() => scatterAddLast(x, index, 4)).toThrow(/last axis \(3\) and the index \(2\)/);
    expect(() => scatterAddLast(pairs, index, -1)).toThrow(/size = -1/);
    tf.dispose([x, floats, pairs, index]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
