import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@posenc/core';
import type { KernelsBackendInfo } from '../backend.js';
import { allKernelsBackend, expectSameAsCpu, randomValues, sizeOf } from '../testing/compare.js';

let info: KernelsBackendInfo;
beforeAll(async () => {
  info = await allKernelsBackend('wasm');
});

const t = (shape: number[], seed: number) => tf.tensor(randomValues(sizeOf(shape), seed), shape);

describe('GatherV2 and UnsortedSegmentSum on ONNX Runtime', () => {
  for (const axis of [0, 1, -1]) {
    it(`gather along axis ${axis} with [2,3] ids (repeats included): forward and gradient equal cpu`, async () => {
      const gatherCalls = info.replacedCalls.get('GatherV2') ?? 0;
      const segmentCalls = info.replacedCalls.get('UnsortedSegmentSum') ?? 0;
      await expectSameAsCpu(
        info,
        'GatherV2',
        () => {
          const x = t([5, 4, 3], 81);
          const ids = tf.tensor2d(
            [
              [2, 0, 2],
              [1, 1, 2],
            ],
            [2, 3],
            'int32',
          );
          const y = tf.gather(x, ids, axis);
          const w = t(y.shape, 82);
          return [y, tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.gather(v, ids, axis), w)))(x)];
        },
        `gather axis ${axis}`,
      );
      expect((info.replacedCalls.get('GatherV2') ?? 0) - gatherCalls).toBe(2);
      // The gather gradient is an UnsortedSegmentSum (over axis 0 after a transpose, for axis ≠ 0).
      expect((info.replacedCalls.get('UnsortedSegmentSum') ?? 0) - segmentCalls).toBe(1);
    });
  }

  it('int32 tables gather like cpu', async () => {
    const calls = await expectSameAsCpu(
      info,
      'GatherV2',
      () => {
        const x = tf.tensor2d(
          [
            [1, 2],
            [3, 4],
            [5, 6],
          ],
          [3, 2],
          'int32',
        );
        return tf.cast(tf.gather(x, tf.tensor1d([2, 0, 2], 'int32')), 'float32');
      },
      'int gather',
    );
    expect(calls).toBe(1);
  });

  it('out-of-range ids go to the host kernel and keep its behaviour', async () => {
    const before = info.replacedCalls.get('GatherV2') ?? 0;
    await tf.setBackend(info.name);
    const outcome = (backend: string) =>
      tf.setBackend(backend).then(() => {
        try {
          return tf.tidy(() =>
            Array.from(tf.gather(tf.tensor1d([1, 2, 3]), tf.tensor1d([0, 5], 'int32')).dataSync()),
          );
        } catch (e) {
          return (e as Error).message;
        }
      });
    expect(await outcome(info.name)).toEqual(await outcome('wasm'));
    expect(info.replacedCalls.get('GatherV2') ?? 0).toBe(before);
  });

  it('UnsortedSegmentSum sums rows into segments and drops out-of-range ids, like cpu', async () => {
    const calls = await expectSameAsCpu(
      info,
      'UnsortedSegmentSum',
      () => {
        const x = t([7, 2, 3], 91);
        return [
          tf.unsortedSegmentSum(x, tf.tensor1d([3, 0, 3, 1, 0, 0, 9], 'int32'), 5),
          tf.unsortedSegmentSum(x, tf.tensor1d([-1, 1, 1, 0, 2, 2, 2], 'int32'), 3),
        ];
      },
      'segment sum',
    );
    expect(calls).toBe(2);
  });
});
