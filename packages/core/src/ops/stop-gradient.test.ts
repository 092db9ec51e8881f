import { expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { stopGradient } from './stop-gradient.js';

it('stopGradient passes values through and blocks the gradient', () => {
  const x = tf.tensor1d([1, -2, 3]);
  // d/dx [x·x + stop(x)·x] = 2x + stop(x) = 3x; without the stop it would be 4x.
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.add(tf.mul(t, t), tf.mul(stopGradient(t), t))))(x);
  expect(Array.from(g.dataSync())).toEqual([3, -6, 9]);
  expect(Array.from(stopGradient(x).dataSync())).toEqual([1, -2, 3]);
  tf.dispose([x, g]);
});
