/**
 * core's gatherLast and scatterAddLast on this engine run the `PosencGatherLast` and
 * `PosencScatterAddLast` kernels (each the other's gradient); on cpu they run TF.js's gather and
 * UnsortedSegmentSum with TF.js's gradients. Values and gradients must agree, on both hosts.
 */
import { describe, expect, it } from 'vitest';
import {
  GATHER_LAST_KERNEL,
  gatherLast,
  SCATTER_ADD_LAST_KERNEL,
  scatterAddLast,
  tf,
} from '@posenc/core';
import { registerKernelsBackend } from '../backend.js';
import { expectNoLeaks, expectSameAsCpu, randomValues, sizeOf } from '../testing/compare.js';

/**
 * Index values in [0, size), with repeats and some values never picked (iRPE's case). With
 * `run` > 1, neighbours share a value in runs of that length, and a value comes back in later
 * runs (iRPE's clipped far offsets), which the scatter-add sums run by run.
 */
const indexOf = (picks: number, size: number, run: number) =>
  tf.tensor1d(
    Array.from({ length: picks }, (_, p) => {
      const q = Math.floor(p / run);
      return (q * 7 + (q % 3)) % Math.max(1, size - 1);
    }),
    'int32',
  );

const CASES: { leading: number[]; size: number; picks: number; run: number }[] = [
  { leading: [], size: 5, picks: 9, run: 1 },
  { leading: [3], size: 11, picks: 4, run: 1 },
  { leading: [2, 3], size: 13 * 50, picks: 13 * 13, run: 1 },
  { leading: [2, 3], size: 7, picks: 50, run: 4 },
  { leading: [4], size: 3, picks: 10, run: 5 },
];

describe('gather along the last axis and its scatter-add', () => {
  for (const host of ['wasm', 'cpu'] as const)
    for (const { leading, size, picks, run } of CASES)
      it(`${host} host, [${[...leading, size]}] read at ${picks} ids in runs of ${run}: gather, scatter-add and both gradients equal the composite ops on cpu, no leaks`, async () => {
        const info = await registerKernelsBackend({
          name: `posenc-kernels-gather-last-${host}`,
          host,
        });
        const gathers = info.replacedCalls.get(GATHER_LAST_KERNEL) ?? 0;
        const f = () => {
          const x = tf.tensor(randomValues(sizeOf([...leading, size]), 41), [...leading, size]);
          const dy = tf.tensor(randomValues(sizeOf([...leading, picks]), 42), [...leading, picks]);
          const index = indexOf(picks, size, run);
          const gathered = gatherLast(x, index);
          const scattered = scatterAddLast(dy, index, size);
          const [dx] = tf.grads((xi: tf.Tensor) => tf.sum(tf.mul(gatherLast(xi, index), dy)))([x]);
          const [ddy] = tf.grads((yi: tf.Tensor) =>
            tf.sum(tf.mul(scatterAddLast(yi, index, size), x)),
          )([dy]);
          return [gathered, scattered, dx!, ddy!];
        };
        const scatters = await expectNoLeaks(info.name, () =>
          expectSameAsCpu(info, SCATTER_ADD_LAST_KERNEL, f, `[${[...leading, size]}]`),
        );
        // Each runs alone, in the forward of one gradient and as the other's gradient.
        expect(scatters).toBe(3);
        expect((info.replacedCalls.get(GATHER_LAST_KERNEL) ?? 0) - gathers).toBe(3);
      });

  it('an index value outside [0, size) is an error naming it, as on cpu', async () => {
    const info = await registerKernelsBackend({
      name: 'posenc-kernels-gather-last-wasm',
      host: 'wasm',
    });
    await tf.setBackend(info.name);
    const x = tf.ones([2, 4]);
    const y = tf.ones([2, 2]);
    const index = tf.tensor1d([0, 4], 'int32');
    expect(() => gatherLast(x, index)).toThrow(/index\[1\] = 4 is not allowed.*\[0, 4\)/);
    expect(() => scatterAddLast(y, index, 4)).toThrow(/index\[1\] = 4 is not allowed/);
    tf.dispose([x, y, index]);
  });
});
