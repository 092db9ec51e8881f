import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@posenc/core';
import { registerKernelsBackend, type KernelsBackendInfo } from '../backend.js';
import { allKernelsBackend, expectSameAsCpu, randomValues, sizeOf } from '../testing/compare.js';
import { keepsDataOrder, splitSizes } from './layout.js';

let info: KernelsBackendInfo;
beforeAll(async () => {
  info = await allKernelsBackend('wasm');
});

const t = (shape: number[], seed: number, lo = -2, hi = 2) =>
  tf.tensor(randomValues(sizeOf(shape), seed, lo, hi), shape);

describe('Transpose on ONNX Runtime', () => {
  for (const perm of [
    [1, 0, 2, 3],
    [0, 2, 1, 3],
    [3, 2, 1, 0],
    [2, 0, 3, 1],
  ]) {
    it(`perm [${perm}], float32 and int32: forward and gradient equal cpu`, async () => {
      const calls = await expectSameAsCpu(
        info,
        'Transpose',
        () => {
          const x = t([2, 3, 4, 5], 71);
          const w = t(
            perm.map((p) => x.shape[p]!),
            72,
          );
          const xi = tf.cast(tf.mul(x, 10), 'int32');
          return [
            tf.transpose(x, perm),
            tf.cast(tf.transpose(xi, perm), 'float32'),
            tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.transpose(v, perm), w)))(x),
          ];
        },
        `transpose ${perm}`,
      );
      expect(calls).toBeGreaterThanOrEqual(3);
    });
  }
});

describe('Transpose that moves only axes of length 1', () => {
  it('keepsDataOrder: the axes longer than 1 stay in order', () => {
    expect(keepsDataOrder([1, 2, 8, 4], [1, 0, 2, 3])).toBe(true);
    expect(keepsDataOrder([2, 1, 8, 4], [1, 2, 0, 3])).toBe(false);
    expect(keepsDataOrder([2, 3, 1], [0, 2, 1])).toBe(true);
    expect(keepsDataOrder([2, 3, 4], [0, 1, 2])).toBe(true);
    expect(keepsDataOrder([2, 3, 4], [0, 2, 1])).toBe(false);
  });

  it('shares the input data (no copy, no ONNX run) and equals cpu, forward and gradient, on both hosts', async () => {
    for (const host of ['wasm', 'cpu'] as const) {
      const backend = await registerKernelsBackend({ name: `posenc-kernels-share-${host}`, host });
      const perm = [1, 0, 2, 3];
      const shape = [1, 3, 4, 5];
      const calls = await expectSameAsCpu(
        backend,
        'Transpose',
        () => {
          const x = t(shape, 75);
          const w = t([3, 1, 4, 5], 76);
          const xi = tf.cast(tf.mul(x, 10), 'int32');
          return [
            tf.transpose(x, perm),
            tf.cast(tf.transpose(xi, perm), 'float32'),
            tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.transpose(v, perm), w)))(x),
          ];
        },
        `shared transpose on ${host}`,
      );
      expect(calls).toBeGreaterThanOrEqual(3);
      const engine = tf.engine();
      const buffers = engine.backend.numDataIds();
      const [x, y] = tf.tidy(() => {
        const x = t(shape, 77);
        return [x, tf.transpose(x, perm)];
      });
      expect(engine.backend.numDataIds(), 'data buffers').toBe(buffers + 1);
      expect(y!.shape).toEqual([3, 1, 4, 5]);
      x!.dispose();
      const expected = tf.tidy(() => Array.from(t(shape, 77).dataSync()));
      expect(Array.from(y!.dataSync())).toEqual(expected);
      tf.dispose(y!);
    }
  });
});

describe('Tile on the kernels backend', () => {
  const cases: [number[], number[]][] = [
    [
      [4, 1, 3],
      [1, 5, 1],
    ], // a broadcast (ONNX Expand here; a host multiply by ones under minElements)
    [
      [1, 6],
      [7, 1],
    ],
    [
      [2, 3],
      [2, 2],
    ], // a real tiling (ONNX Tile)
    [
      [2, 1, 3],
      [3, 4, 2],
    ],
  ];
  for (const [shape, reps] of cases) {
    it(`[${shape}] by [${reps}], float32 and int32: forward and gradient equal cpu`, async () => {
      const calls = await expectSameAsCpu(
        info,
        'Tile',
        () => {
          const x = t(shape, 131);
          const w = t(
            shape.map((d, i) => d * reps[i]!),
            132,
          );
          const xi = tf.cast(tf.mul(x, 10), 'int32');
          return [
            tf.tile(x, reps),
            tf.cast(tf.tile(xi, reps), 'float32'),
            tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.tile(v, reps), w)))(x),
          ];
        },
        `tile [${shape}] [${reps}]`,
      );
      expect(calls).toBeGreaterThanOrEqual(3);
    });
  }
});

describe('Concat and SplitV on the kernels backend', () => {
  it('splitSizes infers one −1 and rejects what does not add up', () => {
    expect(splitSizes(12, 3)).toEqual([4, 4, 4]);
    expect(splitSizes(12, [5, -1, 2])).toEqual([5, 5, 2]);
    expect(splitSizes(12, 5)).toBeUndefined();
    expect(splitSizes(12, [5, 5])).toBeUndefined();
    expect(splitSizes(12, [-1, -1])).toBeUndefined();
  });

  for (const axis of [0, 1, -1]) {
    it(`concat of three tensors (one empty) along axis ${axis}, float32 and int32: forward and gradient equal cpu`, async () => {
      const calls = await expectSameAsCpu(
        info,
        'Concat',
        () => {
          const a = axis;
          const shapeWith = (n: number) => [2, 3, 4].map((d, i) => (i === (a + 3) % 3 ? n : d));
          const [x, y, empty] = [t(shapeWith(2), 161), t(shapeWith(5), 162), t(shapeWith(0), 163)];
          const w = t(shapeWith(7), 164);
          const ints = [x, y].map((v) => tf.cast(tf.mul(v, 10), 'int32'));
          return [
            tf.concat([x, empty, y], axis),
            tf.cast(tf.concat(ints, axis), 'float32'),
            ...tf.grads((u: tf.Tensor, v: tf.Tensor) => tf.sum(tf.mul(tf.concat([u, v], axis), w)))(
              [x, y],
            ),
          ];
        },
        `concat axis ${axis}`,
      );
      expect(calls).toBeGreaterThanOrEqual(3);
    });
  }

  for (const [sizes, axis] of [
    [2, -1],
    [[3, -1, 1], 1],
    [[1, 1], 0],
  ] as const) {
    it(`split into ${JSON.stringify(sizes)} along axis ${axis}: forward and gradient equal cpu`, async () => {
      const calls = await expectSameAsCpu(
        info,
        'SplitV',
        () => {
          const x = t([2, 6, 4], 171);
          const parts = tf.split(x, sizes as number | number[], axis);
          const weights = parts.map((p, i) => t(p.shape, 172 + i));
          const f = (v: tf.Tensor) =>
            tf.addN(
              tf
                .split(v, sizes as number | number[], axis)
                .map((p, i) => tf.sum(tf.mul(p, weights[i]!))),
            );
          return [...parts, tf.grad(f)(x)];
        },
        `split ${JSON.stringify(sizes)} ${axis}`,
      );
      expect(calls).toBeGreaterThanOrEqual(2);
    });
  }
});

describe('small layout ops with the default size threshold', () => {
  // The host's SplitV (any rank) and its rank-6 Transpose are far slower than one ONNX Runtime
  // call on tensors of a few thousand floats, so these go to ONNX Runtime below minElements too.
  it('a split of 10k floats at rank 6 and a rank-6 transpose run here and equal cpu; a rank-4 transpose stays on the host', async () => {
    const defaults = await registerKernelsBackend({ name: 'posenc-kernels-layout-defaults' });
    expect(defaults.minElements).toBeGreaterThan(10_240);
    const splits = await expectSameAsCpu(
      defaults,
      'SplitV',
      () => tf.split(t([2, 2, 1, 4, 10, 64], 181), [3, 1], 3),
      'small rank-6 split',
    );
    expect(splits).toBe(1);
    const transposes = await expectSameAsCpu(
      defaults,
      'Transpose',
      () => [
        tf.transpose(t([2, 2, 1, 2, 10, 64], 182), [1, 4, 5, 2, 3, 0]),
        tf.transpose(t([2, 2, 2, 640], 183), [1, 3, 2, 0]),
      ],
      'small rank-6 and rank-4 transposes',
    );
    expect(transposes).toBe(1);
  });
});
