import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@posenc/core';
import type { KernelsBackendInfo } from '../backend.js';
import { allKernelsBackend, expectSameAsCpu, randomValues, sizeOf } from '../testing/compare.js';
import { matMulShape } from './matmul.js';

const hosts = ['wasm', 'cpu'] as const;
const backends: Partial<Record<(typeof hosts)[number], KernelsBackendInfo>> = {};

beforeAll(async () => {
  for (const host of hosts) backends[host] = await allKernelsBackend(host);
});

const t = (shape: number[], seed: number) => tf.tensor(randomValues(sizeOf(shape), seed), shape);

/**
 * [a shape, b shape, transposeA, transposeB]: every transpose case, with and without batch
 * broadcasting. TF.js 4.22's BatchMatMul gradient does not sum over broadcast batch dims (it
 * fails its own shape check on every backend), so cases that broadcast are checked forward only.
 * Its cpu kernel also mis-broadcasts when both sides have batch dims > 1 that broadcast against
 * each other ([2,1]·[4] gives 4 products, not 8), so the reference broadcasts explicitly first.
 */
const CASES: [number[], number[], boolean, boolean][] = [
  [[3, 5], [5, 4], false, false],
  [[5, 3], [5, 4], true, false],
  [[3, 5], [4, 5], false, true],
  [[5, 3], [4, 5], true, true],
  [[2, 3, 5], [2, 5, 4], false, false],
  [[2, 1, 3, 5], [4, 5, 6], false, false], // batch dims broadcast both ways: [2,1] with [4]
  [[7, 3, 5], [5, 4], false, false], // rank 3 with rank 2
  [[3, 5], [2, 2, 5, 4], false, false], // rank 2 with rank 4
  [[1, 5, 3], [6, 4, 5], true, true],
  [[2, 3, 5, 3], [2, 3, 5, 6], true, false],
  [[4, 1, 6, 5], [1, 3, 4, 5], false, true],
];

describe('matMulShape', () => {
  it('broadcasts batch dims and applies transposes', () => {
    expect(matMulShape([2, 1, 3, 5], [4, 5, 6], false, false)).toEqual([2, 4, 3, 6]);
    expect(matMulShape([5, 3], [4, 5], true, true)).toEqual([3, 4]);
    expect(matMulShape([3, 5], [4, 5], false, false)).toBeUndefined();
    expect(matMulShape([2, 3, 5], [3, 5, 4], false, false)).toBeUndefined();
    expect(matMulShape([5], [5, 4], false, false)).toBeUndefined();
  });
});

for (const host of hosts) {
  describe(`BatchMatMul on ONNX Runtime (host ${host})`, () => {
    for (const [as, bs, ta, tb] of CASES) {
      const outShape = matMulShape(as, bs, ta, tb)!;
      const broadcasts = as.slice(0, -2).join() !== bs.slice(0, -2).join();
      it(`[${as}]${ta ? 'ᵀ' : ''} · [${bs}]${tb ? 'ᵀ' : ''}: forward${broadcasts ? '' : ' and both gradients'} equal cpu`, async () => {
        const f = () => {
          const a = t(as, 1);
          const b = t(bs, 2);
          if (broadcasts) return tf.matMul(a, b, ta, tb);
          const w = t(outShape, 3);
          const loss = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, ta, tb), w));
          const [da, db] = tf.grads(loss)([a, b]);
          return [tf.matMul(a, b, ta, tb), da!, db!];
        };
        const explicitlyBroadcast = () => {
          const batch = outShape.slice(0, -2);
          const a = tf.broadcastTo(t(as, 1), [...batch, ...as.slice(-2)]);
          const b = tf.broadcastTo(t(bs, 2), [...batch, ...bs.slice(-2)]);
          return tf.matMul(a, b, ta, tb);
        };
        const calls = await expectSameAsCpu(
          backends[host]!,
          'BatchMatMul',
          f,
          `matMul ${host}`,
          {},
          broadcasts ? explicitlyBroadcast : f,
        );
        // Forward once, or the taped forward, the two gradient products and the returned forward.
        expect(calls).toBe(broadcasts ? 1 : 4);
      });
    }

    it('takes inputs produced by transpose, slice and reshape on the backend', async () => {
      const calls = await expectSameAsCpu(
        backends[host]!,
        'BatchMatMul',
        () => {
          const big = t([4, 6, 8], 4);
          const a = tf.transpose(big, [0, 2, 1]).slice([1, 0, 2], [2, 8, 3]); // [2,8,3]
          const b = tf.reshape(t([24], 5), [2, 3, 4]);
          return tf.matMul(a, b);
        },
        `matMul of views ${host}`,
      );
      expect(calls).toBe(1);
    });

    it('leaves int32 products to the host kernel, which answers as it does on its own', async () => {
      const info = backends[host]!;
      const product = async (backend: string) => {
        await tf.setBackend(backend);
        try {
          return tf.tidy(() =>
            Array.from(
              tf
                .matMul(
                  tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'),
                  tf.tensor2d([5, 6, 7, 8], [2, 2], 'int32'),
                )
                .dataSync(),
            ),
          );
        } catch (e) {
          return (e as Error).message; // tfjs-wasm has no int32 BatchMatMul
        }
      };
      const before = info.replacedCalls.get('BatchMatMul') ?? 0;
      const ours = await product(info.name);
      expect(ours).toEqual(await product(host));
      if (host === 'cpu') expect(ours).toEqual([19, 22, 43, 50]);
      expect(info.replacedCalls.get('BatchMatMul') ?? 0).toBe(before);
    });
  });
}

describe('_FusedMatMul on ONNX Runtime', () => {
  const activations = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const;
  for (const activation of activations) {
    for (const biasShape of [undefined, [4], [3, 4]]) {
      it(`${activation}, bias ${biasShape ? `[${biasShape}]` : 'none'}: forward equals cpu`, async () => {
        const calls = await expectSameAsCpu(
          backends.wasm!,
          '_FusedMatMul',
          () => {
            // Scaled so that relu6's upper clip and leakyrelu's negative side are both exercised.
            const a = tf.mul(t([2, 3, 5], 6), 4);
            const b = t([5, 4], 7);
            return tf.fused.matMul({
              a,
              b,
              bias: biasShape && t(biasShape, 8),
              activation,
              preluActivationWeights: activation === 'prelu' ? t([4], 9) : undefined,
              leakyreluAlpha: 0.3,
            });
          },
          `fused ${activation}`,
        );
        expect(calls).toBe(1);
      });
    }
  }

  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    for (const activation of ['linear', 'relu'] as const) {
      // Under a gradient tape TF.js fuses only 'linear'; relu runs as matMul + add + relu.
      const kernel = activation === 'linear' ? '_FusedMatMul' : 'BatchMatMul';
      it(`transposeA=${ta} transposeB=${tb}, ${activation}, with bias: gradients equal cpu`, async () => {
        const calls = await expectSameAsCpu(
          backends.wasm!,
          kernel,
          () => {
            const a = t(ta ? [2, 5, 3] : [2, 3, 5], 10);
            const b = t(tb ? [2, 4, 5] : [2, 5, 4], 11);
            const bias = t([4], 12);
            const w = t([2, 3, 4], 13);
            const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
              tf.sum(
                tf.mul(
                  tf.fused.matMul({
                    a: x as tf.Tensor3D,
                    b: y as tf.Tensor3D,
                    bias: z,
                    transposeA: ta,
                    transposeB: tb,
                    activation,
                  }),
                  w,
                ),
              );
            return tf.grads(f)([a, b, bias]);
          },
          `fused grad ${ta}${tb}${activation}`,
        );
        // The forward product and the two gradient products.
        expect(calls).toBe(activation === 'linear' ? 1 : 3);
      });
    }
  }
});

describe('BatchMatMul on random shapes', () => {
  /** Seeded draws: ranks 2–4 on each side, batch dims that broadcast (1 against n), any transposes. */
  function* randomCases(
    count: number,
    seed: number,
  ): Generator<[number[], number[], boolean, boolean]> {
    const draw = randomValues(count * 16, seed, 0, 1);
    let i = 0;
    const int = (lo: number, hi: number) => lo + Math.floor(draw[i++]! * (hi - lo + 1));
    for (let c = 0; c < count; c++) {
      const [m, k, n] = [int(1, 9), int(1, 9), int(1, 9)];
      const rank = int(0, 2);
      const batch = Array.from({ length: rank }, () => int(1, 3));
      const aBatch = batch.map((d) => (draw[i++]! < 0.3 ? 1 : d));
      const bBatch = batch
        .map((d, j) => (aBatch[j] === 1 ? d : draw[i++]! < 0.3 ? 1 : d))
        .slice(int(0, rank));
      const ta = draw[i++]! < 0.5;
      const tb = draw[i++]! < 0.5;
      yield [
        [...aBatch, ...(ta ? [k, m] : [m, k])],
        [...bBatch, ...(tb ? [n, k] : [k, n])],
        ta,
        tb,
      ];
    }
  }

  for (const [as, bs, ta, tb] of randomCases(24, 2024)) {
    it(`[${as}]${ta ? 'ᵀ' : ''} · [${bs}]${tb ? 'ᵀ' : ''} equals the explicitly broadcast cpu product`, async () => {
      const outShape = matMulShape(as, bs, ta, tb)!;
      expect(outShape).toBeDefined();
      const calls = await expectSameAsCpu(
        backends.wasm!,
        'BatchMatMul',
        () => tf.matMul(t(as, 151), t(bs, 152), ta, tb),
        `random matMul`,
        {},
        () => {
          const batch = outShape.slice(0, -2);
          return tf.matMul(
            tf.broadcastTo(t(as, 151), [...batch, ...as.slice(-2)]),
            tf.broadcastTo(t(bs, 152), [...batch, ...bs.slice(-2)]),
            ta,
            tb,
          );
        },
      );
      expect(calls).toBe(1);
    });
  }
});
