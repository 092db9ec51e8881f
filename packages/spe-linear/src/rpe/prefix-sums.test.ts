import { describe, expect, it } from 'vitest';
import { tf } from '@posenc/core';
import { expectClose, onCpuWithoutLeaks } from '@posenc/core/testing';
import { prefixSums } from './prefix-sums.js';

onCpuWithoutLeaks();

describe('prefixSums', () => {
  // n = 1, a perfect square, one past it and a prime: the blocks and their padding vary.
  for (const n of [1, 9, 10, 37])
    it(`equals tf.cumsum along axis 1 and holds the total past the end (n = ${n})`, () => {
      const x = tf.randomNormal([3, n, 5], 0, 1, 'float32', n) as tf.Tensor3D;
      const p = prefixSums(x);
      expect(p.shape[1]).toBeGreaterThanOrEqual(n);
      const reference = tf.tidy(() => {
        const sums = tf.cumsum(x, 1);
        const total = tf.sum(x, 1, true);
        const extra = p.shape[1] - n;
        return extra ? tf.concat([sums, tf.tile(total, [1, extra, 1])], 1) : sums;
      });
      expectClose(p, reference.dataSync(), { atol: 1e-5 });
      tf.dispose([x, p, reference]);
    });

  it('has the gradient of a prefix sum', () => {
    const x = tf.randomNormal([2, 11, 3], 0, 1, 'float32', 5) as tf.Tensor3D;
    const probe = tf.randomNormal([2, 11, 3], 0, 1, 'float32', 6);
    const loss = (f: (t: tf.Tensor3D) => tf.Tensor) => (t: tf.Tensor) =>
      tf.sum(tf.mul(f(t as tf.Tensor3D), probe));
    const ours = tf.grad(loss((t) => tf.slice(prefixSums(t), [0, 0, 0], [2, 11, 3])))(x);
    const reference = tf.grad(loss((t) => tf.cumsum(t, 1)))(x);
    expectClose(ours, reference.dataSync(), { atol: 1e-5 });
    tf.dispose([x, probe, ours, reference]);
  });
});
