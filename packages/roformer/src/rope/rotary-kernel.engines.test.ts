/**
 * The rotation on every engine this machine has (cpu, wasm and whatever `initEngine` would pick):
 * the JS kernel and the composite TF.js-ops path agree, forward and backward.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { gridPositions, selectEngine, tf, type EngineName } from '@posenc/core';
import { maxAbsDiff } from '@posenc/core/testing';
import { uniform } from '../testing/random.js';
import { applyRope, type RopeOptions } from './apply-rope.js';
import type { RopePositionsInput } from './coordinates.js';
import { setRotaryPath, type RotaryPath } from './rotary-kernel.js';

afterAll(() => setRotaryPath('auto'));

const cases: [string, RopeOptions, () => RopePositionsInput, number[]][] = [
  [
    'interleaved, partial',
    { startIndex: 1, rotaryDim: 6 },
    () => [
      [0, 3, 7.5],
      [2, 1, 0],
    ],
    [2, 2, 3, 10],
  ],
  [
    'half, xPos',
    { layout: 'half', xpos: { role: 'key', scaleBase: 8 } },
    () => undefined,
    [1, 2, 5, 8],
  ],
  ['half, axial with a skip token', { layout: 'half' }, () => gridPositions(1, 2, 2, 1), [2, 5, 8]],
];

function run(
  path: RotaryPath,
  options: RopeOptions,
  positions: RopePositionsInput,
  shape: number[],
) {
  setRotaryPath(path);
  return tf.tidy(() => {
    const size = shape.reduce((a, b) => a * b);
    const x = tf.tensor(uniform(1, size), shape);
    const w = tf.tensor(uniform(2, size), shape);
    const f = (xi: tf.Tensor) =>
      tf.sum(tf.mul(w, tf.sin(applyRope(xi as tf.Tensor4D, positions, options))));
    const y = applyRope(x as tf.Tensor4D, positions, options).dataSync();
    const g = tf.grad(f)(x).dataSync();
    return { y, g };
  });
}

const engines: (EngineName | 'auto')[] = ['cpu', 'wasm', 'auto'];

describe.each(engines)('rotation on engine %s', (engine) => {
  it.each(cases)(
    'kernel = composite ops, forward and gradient (%s)',
    async (_name, options, positions, shape) => {
      const choice = await selectEngine({
        engine: engine === 'auto' ? undefined : engine,
        log: null,
      });
      expect(tf.getBackend()).toBe(choice.backend);
      const before = tf.memory().numTensors;
      const p = positions();
      const kernel = run('kernel', options, p, shape);
      const composite = run('composite', options, p, shape);
      setRotaryPath('auto');
      expect(maxAbsDiff(kernel.y, composite.y)).toBeLessThan(1e-6);
      expect(maxAbsDiff(kernel.g, composite.g)).toBeLessThan(1e-5);
      if (p && typeof p === 'object' && 'kind' in p && p.kind === '2d')
        tf.dispose([p.rows, p.cols]);
      expect(tf.memory().numTensors).toBe(before);
    },
  );
});
