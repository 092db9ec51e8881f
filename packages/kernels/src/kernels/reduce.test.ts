import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@posenc/core';
import type { KernelsBackendInfo } from '../backend.js';
import { allKernelsBackend, expectSameAsCpu, randomValues, sizeOf } from '../testing/compare.js';
import { normalizeAxes } from './reduce.js';

let info: KernelsBackendInfo;
beforeAll(async () => {
  info = await allKernelsBackend('wasm');
});

const t = (shape: number[], seed: number, lo = -2, hi = 2) =>
  tf.tensor(randomValues(sizeOf(shape), seed, lo, hi), shape);

describe('normalizeAxes', () => {
  it('turns a TF.js axis attribute into sorted, distinct, non-negative axes', () => {
    expect(normalizeAxes(-1, 3)).toEqual([2]);
    expect(normalizeAxes([2, -3, 0], 3)).toEqual([0, 2]);
    expect(normalizeAxes(undefined, 2)).toEqual([0, 1]);
    expect(normalizeAxes(3, 3)).toBeUndefined();
  });
});

type Reduce = (x: tf.Tensor, axis: number | number[] | undefined, keepDims: boolean) => tf.Tensor;
const REDUCTIONS: Record<string, { op: Reduce; range?: [number, number] }> = {
  Sum: { op: tf.sum },
  Mean: { op: tf.mean },
  Max: { op: tf.max },
  Min: { op: tf.min },
  Prod: { op: tf.prod, range: [0.5, 1.5] },
};
const AXES: (number | number[] | undefined)[] = [-1, 0, [0, 1], [1, 3], undefined];

describe('reductions on ONNX Runtime', () => {
  for (const [name, { op, range = [-2, 2] }] of Object.entries(REDUCTIONS)) {
    // TF.js 4.22's Prod gradient fails for a negative axis on every backend (its transpose is
    // built from the raw axis), so Prod is taken over the last axis by its positive index.
    for (const axis of name === 'Prod' ? AXES.map((a) => (a === -1 ? 3 : a)) : AXES) {
      for (const keepDims of [false, true]) {
        it(`${name} over ${JSON.stringify(axis) ?? 'all axes'}${keepDims ? ', keepDims' : ''}: forward and gradient equal cpu`, async () => {
          const calls = await expectSameAsCpu(
            info,
            name,
            () => {
              const x = t([2, 3, 4, 5], 61, range[0], range[1]);
              const y = op(x, axis, keepDims);
              const w = t(y.shape, 62);
              // TF.js's Prod gradient is computed by cumprod; compare it like the others.
              return [y, tf.grad((v: tf.Tensor) => tf.sum(tf.mul(op(v, axis, keepDims), w)))(x)];
            },
            `${name} ${JSON.stringify(axis)} ${keepDims}`,
            { rtol: 2e-5, atol: 2e-6 },
          );
          expect(calls).toBeGreaterThanOrEqual(1);
        });
      }
    }
  }

  it('leaves int32 sums to the host', async () => {
    const before = info.replacedCalls.get('Sum') ?? 0;
    await expectSameAsCpu(
      info,
      'Sum',
      () =>
        tf.cast(
          tf.sum(
            tf.tensor(
              [
                [1, 2],
                [3, 4],
              ],
              [2, 2],
              'int32',
            ),
            0,
          ),
          'float32',
        ),
      'int sum',
    );
    expect(info.replacedCalls.get('Sum') ?? 0).toBe(before);
  });
});
