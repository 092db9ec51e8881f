import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@posenc/core';
import { registerKernelsBackend, type KernelsBackendInfo } from './backend.js';
import { randomValues, runOn } from './testing/compare.js';

let info: KernelsBackendInfo;
beforeAll(async () => {
  info = await registerKernelsBackend();
});

describe('Sum and Mean gradients on the kernels backend', () => {
  for (const [name, op] of [
    ['Sum', tf.sum],
    ['Mean', tf.mean],
  ] as const) {
    for (const axis of [-1, [0, 2], undefined]) {
      it(`${name} over ${JSON.stringify(axis) ?? 'all axes'}: bit-for-bit TF.js's gradient, through the fast Tile`, async () => {
        const f = () => {
          const x = tf.tensor(randomValues(2 * 3 * 30, 141), [2, 3, 30]);
          const w = tf.tensor(randomValues(op(x, axis, true).size, 142), op(x, axis, true).shape);
          return tf.grad((v: tf.Tensor) => tf.sum(tf.mul(op(v, axis, true), w)))(x);
        };
        const tiles = info.replacedCalls.get('Tile') ?? 0;
        const ours = await runOn(info.name, f);
        // At least the gradient of the op under test (the outer sum's broadcasts too unless trivial).
        expect((info.replacedCalls.get('Tile') ?? 0) - tiles).toBeGreaterThanOrEqual(1);
        const cpu = await runOn('cpu', f);
        expect(Array.from(ours.values[0]!)).toEqual(Array.from(cpu.values[0]!));
      });
    }
  }

  it('other backends keep TF.js own gradient (no Tile call)', async () => {
    await tf.setBackend('wasm');
    const g = tf.tidy(() =>
      Array.from(
        tf
          .grad((v: tf.Tensor) => tf.mean(v))(tf.tensor([1, 2, 3, 4]))
          .dataSync(),
      ),
    );
    expect(g).toEqual([0.25, 0.25, 0.25, 0.25]);
  });
});
