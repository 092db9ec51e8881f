import { describe, expect, it } from 'vitest';
import { gridPositions, tf } from '@posenc/core';
import {
  checkGradientsByFiniteDifferences,
  maxAbsDiff,
  onCpuWithoutLeaks,
} from '@posenc/core/testing';
import { uniform } from '../testing/random.js';
import { applyRope, type RopeOptions } from './apply-rope.js';
import type { RopePositionsInput } from './coordinates.js';
import { ROTARY_KERNEL } from './rotary-kernel.js';

onCpuWithoutLeaks();

interface Case {
  name: string;
  shape: number[];
  positions: () => RopePositionsInput;
  options: RopeOptions;
}

const cases: Case[] = [
  {
    name: 'interleaved, full',
    shape: [2, 2, 5, 8],
    positions: () => [0, 1, 2.5, 40, -3],
    options: {},
  },
  {
    name: 'half, partial from index 3',
    shape: [1, 2, 4, 12],
    positions: () => [5, 9, 1, 0],
    options: { layout: 'half', startIndex: 3, rotaryDim: 6 },
  },
  {
    name: 'xPos query scales (not orthogonal)',
    shape: [1, 1, 6, 8],
    positions: () => undefined,
    options: { xpos: { role: 'query', scaleBase: 4 } },
  },
  {
    name: 'per-row positions, [B,N,D]',
    shape: [2, 3, 4],
    positions: () => [
      [0, 1, 2],
      [7, 3, 100],
    ],
    options: { base: 100 },
  },
];

describe('the rotation gradient', () => {
  it('keeps only the angle tables for the backward pass, not x', () => {
    expect(tf.getGradient(ROTARY_KERNEL).inputsToSave).toEqual(['cos', 'sin']);
  });

  // tanh after the rotation: non-linear, so the check covers the chain rule through the kernel.
  it.each(cases)('matches central finite differences ($name)', ({ shape, positions, options }) => {
    const size = shape.reduce((a, b) => a * b);
    const x = tf.tidy(() => tf.variable(tf.tensor(uniform(1, size), shape)));
    const pos = positions();
    checkGradientsByFiniteDifferences(
      () => [tf.tanh(applyRope(x as tf.Tensor as tf.Tensor4D, pos, options))],
      { x },
      { seed: 3, sampledEntries: 24 },
    );
    x.dispose();
  });

  it('is the inverse rotation of the upstream gradient (unscaled tables)', () => {
    const grid = gridPositions(2, 2, 3, 1);
    const x = tf.tensor(uniform(4, 2 * 7 * 8), [2, 7, 8]) as tf.Tensor3D;
    const dy = tf.tensor(uniform(5, 2 * 7 * 8), [2, 7, 8]) as tf.Tensor3D;
    for (const layout of ['interleaved', 'half'] as const) {
      const grad = tf.tidy(() =>
        tf
          .grad((xi: tf.Tensor) =>
            tf.sum(tf.mul(dy, applyRope(xi as tf.Tensor3D, grid, { layout }))),
          )(x)
          .dataSync(),
      );
      const inverse = tf.tidy(() => applyRope(dy, grid, { layout, inverse: true }).dataSync());
      expect(maxAbsDiff(grad, inverse)).toBeLessThan(1e-6);
      expect(maxAbsDiff(grad, dy.dataSync())).toBeGreaterThan(1e-2);
    }
    tf.dispose([grid.rows, grid.cols, x, dy]);
  });
});
