import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@posenc/core';
import type { KernelsBackendInfo } from '../backend.js';
import { allKernelsBackend, expectSameAsCpu, randomValues, sizeOf } from '../testing/compare.js';

let info: KernelsBackendInfo;
beforeAll(async () => {
  info = await allKernelsBackend('wasm');
});

const t = (shape: number[], seed: number, scale = 1) =>
  tf.mul(tf.tensor(randomValues(sizeOf(shape), seed), shape), scale);

describe('Softmax on ONNX Runtime', () => {
  for (const shape of [[7], [3, 9], [2, 3, 4, 17]]) {
    it(`over the last axis of [${shape}], with large logits and masked (−1e9) entries: forward and gradient equal cpu`, async () => {
      const calls = await expectSameAsCpu(
        info,
        'Softmax',
        () => {
          const mask = tf.mul(tf.cast(tf.greater(t(shape, 101), 0.8), 'float32'), -1e9);
          const x = tf.add(t(shape, 102, 30), mask);
          const w = t(shape, 103);
          return [tf.softmax(x), tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.softmax(v), w)))(x)];
        },
        `softmax [${shape}]`,
        { rtol: 1e-5, atol: 1e-6 },
      );
      expect(calls).toBe(2);
    });
  }
});

describe('Identity without a copy', () => {
  it('a clone shares the data, survives the disposal of its source, and both are freed once', async () => {
    await tf.setBackend(info.name);
    const backend = tf.backend();
    const before = { buffers: tf.memory().numDataBuffers, ids: backend.numDataIds() };
    const x = tf.tensor([1, 2, 3, 4]);
    const y = tf.clone(x);
    expect(tf.memory().numDataBuffers - before.buffers).toBe(1);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    y.dispose();
    expect(tf.memory().numDataBuffers).toBe(before.buffers);
    expect(backend.numDataIds()).toBe(before.ids);
  });

  it('customGrad saves (Identity) keep gradients equal to cpu', async () => {
    const calls = await expectSameAsCpu(
      info,
      'Identity',
      () => {
        const a = t([2, 3, 4], 111);
        const b = t([2, 4, 5], 112);
        const bias = t([5], 113);
        const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
          tf.sum(tf.square(tf.fused.matMul({ a: x as tf.Tensor3D, b: y as tf.Tensor3D, bias: z })));
        return tf.grads(f)([a, b, bias]);
      },
      'customGrad',
    );
    expect(calls).toBeGreaterThan(0);
  });
});
