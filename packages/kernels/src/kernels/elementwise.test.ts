import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@posenc/core';
import type { KernelsBackendInfo } from '../backend.js';
import { allKernelsBackend, expectSameAsCpu, randomValues, sizeOf } from '../testing/compare.js';
import { ELEMENTWISE_KERNELS } from './elementwise.js';

let info: KernelsBackendInfo;
beforeAll(async () => {
  info = await allKernelsBackend('wasm');
});

const t = (shape: number[], seed: number, lo = -2, hi = 2) =>
  tf.tensor(randomValues(sizeOf(shape), seed, lo, hi), shape);

interface UnaryCase {
  op: (x: tf.Tensor) => tf.Tensor;
  /** Input range where the op is defined and smooth enough for a gradient comparison. */
  range?: [number, number];
  /** TF.js registers no gradient, or it is zero almost everywhere. */
  noGradient?: boolean;
}

const UNARY: Record<string, UnaryCase> = {
  Abs: { op: tf.abs },
  Ceil: { op: tf.ceil, noGradient: true },
  Cos: { op: tf.cos },
  Erf: { op: tf.erf },
  Exp: { op: tf.exp },
  Floor: { op: tf.floor, noGradient: true },
  Log: { op: tf.log, range: [0.1, 3] },
  Neg: { op: tf.neg },
  Reciprocal: { op: tf.reciprocal, range: [0.5, 3] },
  Relu: { op: tf.relu },
  Sigmoid: { op: tf.sigmoid },
  Sign: { op: tf.sign, noGradient: true },
  Sin: { op: tf.sin },
  Softplus: { op: tf.softplus },
  Sqrt: { op: tf.sqrt, range: [0.1, 3] },
  Tanh: { op: tf.tanh },
  Rsqrt: { op: tf.rsqrt, range: [0.1, 3] },
  Square: { op: tf.square },
  Elu: { op: tf.elu },
  LeakyRelu: { op: (x) => tf.leakyRelu(x, 0.15) },
  Step: { op: (x) => tf.step(x, 0.25), noGradient: true },
  ClipByValue: { op: (x) => tf.clipByValue(x, -0.5, 1.25) },
};

interface BinaryCase {
  op: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
  range?: [number, number];
  bool?: boolean;
  /**
   * TF.js 4.22's gradient does not sum over broadcast dims (it fails its own shape check on
   * every backend), so the gradient is compared for equal shapes only.
   */
  gradientNeedsEqualShapes?: boolean;
}

const BINARY: Record<string, BinaryCase> = {
  Add: { op: tf.add },
  Sub: { op: tf.sub },
  Multiply: { op: tf.mul },
  RealDiv: { op: tf.div, range: [0.5, 2] },
  Pow: { op: tf.pow, range: [0.5, 2] },
  Maximum: { op: tf.maximum, gradientNeedsEqualShapes: true },
  Minimum: { op: tf.minimum, gradientNeedsEqualShapes: true },
  SquaredDifference: { op: tf.squaredDifference, gradientNeedsEqualShapes: true },
  Equal: { op: tf.equal, bool: true },
  NotEqual: { op: tf.notEqual, bool: true },
  Greater: { op: tf.greater, bool: true },
  GreaterEqual: { op: tf.greaterEqual, bool: true },
  Less: { op: tf.less, bool: true },
  LessEqual: { op: tf.lessEqual, bool: true },
};

/** Pairs of shapes: equal, scalar, and broadcasting on either side. */
const SHAPE_PAIRS: [number[], number[]][] = [
  [
    [3, 4, 5],
    [3, 4, 5],
  ],
  [[3, 4, 5], []],
  [
    [2, 1, 4],
    [3, 1],
  ],
  [[5], [2, 3, 5]],
];

describe('elementwise kernels on ONNX Runtime', () => {
  it('every elementwise kernel of the package has a test case here', () => {
    const tested = new Set([...Object.keys(UNARY), ...Object.keys(BINARY), 'Cast', 'Select']);
    expect(ELEMENTWISE_KERNELS.map((k) => k.kernelName).filter((n) => !tested.has(n))).toEqual([]);
  });

  for (const [name, c] of Object.entries(UNARY)) {
    it(`${name}: forward${c.noGradient ? '' : ' and gradient'} equal cpu`, async () => {
      const [lo, hi] = c.range ?? [-2, 2];
      const calls = await expectSameAsCpu(
        info,
        name,
        () => {
          const x = t([3, 4, 5], 21, lo, hi);
          const y = c.op(x);
          if (c.noGradient) return y;
          const w = t([3, 4, 5], 22);
          return [y, tf.grad((v: tf.Tensor) => tf.sum(tf.mul(c.op(v), w)))(x)];
        },
        name,
        { rtol: 2e-5, atol: 2e-6 },
      );
      expect(calls).toBeGreaterThanOrEqual(1);
    });
  }

  for (const [name, c] of Object.entries(BINARY)) {
    for (const [as, bs] of SHAPE_PAIRS) {
      const gradients = !c.bool && (!c.gradientNeedsEqualShapes || as.join() === bs.join());
      it(`${name} [${as}]∘[${bs}]: forward${gradients ? ' and both gradients' : ''} equal cpu`, async () => {
        const [lo, hi] = c.range ?? [-2, 2];
        const calls = await expectSameAsCpu(
          info,
          name,
          () => {
            // Rounded to quarters so comparisons meet ties and max/min meet equal arguments.
            const a = tf.div(tf.round(tf.mul(t(as, 31, lo, hi), 4)), 4);
            const b = tf.div(tf.round(tf.mul(t(bs, 32, lo, hi), 4)), 4);
            const y = c.op(a, b);
            if (c.bool) return tf.cast(y, 'float32');
            if (!gradients) return y;
            const w = t(y.shape, 33);
            return [
              y,
              ...tf.grads((u: tf.Tensor, v: tf.Tensor) => tf.sum(tf.mul(c.op(u, v), w)))([a, b]),
            ];
          },
          `${name} [${as}]∘[${bs}]`,
          { rtol: 2e-5, atol: 2e-6 },
        );
        expect(calls).toBeGreaterThanOrEqual(1);
      });
    }
  }

  it('comparisons of int32 tensors equal cpu', async () => {
    for (const name of ['Equal', 'NotEqual', 'Greater', 'GreaterEqual', 'Less', 'LessEqual']) {
      const calls = await expectSameAsCpu(
        info,
        name,
        () => {
          const a = tf.tensor(
            [
              [1, 2, 3],
              [4, 5, 6],
            ],
            [2, 3],
            'int32',
          );
          const b = tf.tensor([3, 2, 7], [3], 'int32');
          return tf.cast(BINARY[name]!.op(a, b), 'float32');
        },
        `${name} int32`,
      );
      expect(calls).toBe(1);
    }
  });

  it('Cast converts between float32, int32 and bool like cpu (float→int32 stays on the host)', async () => {
    const cases: [tf.DataType, tf.DataType, boolean][] = [
      ['bool', 'float32', true],
      ['int32', 'float32', true],
      ['float32', 'bool', true],
      ['int32', 'bool', true],
      ['bool', 'int32', true],
      ['float32', 'int32', false],
    ];
    for (const [from, to, onOnnx] of cases) {
      const calls = await expectSameAsCpu(
        info,
        'Cast',
        () => {
          const x = tf.cast(tf.round(t([4, 5], 41, -3, 3)), from);
          return tf.cast(tf.cast(x, to), 'float32');
        },
        `cast ${from}→${to}`,
      );
      // Three casts run: float32→from (ONNX, or shared when from is float32, host for int32),
      // the one under test, and to→float32 (shared or ONNX). Shared casts count as ONNX-side calls.
      expect(calls).toBe((from === 'int32' ? 0 : 1) + (onOnnx ? 1 : 0) + 1);
    }
  });

  it('Cast to the same dtype shares the data instead of copying it, and frees it once', async () => {
    await tf.setBackend(info.name);
    const buffers = () => tf.memory().numDataBuffers;
    const before = buffers();
    const x = tf.tensor([1, 2, 3]);
    const y = tf.cast(x, 'float32');
    expect(buffers() - before).toBe(1);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    y.dispose();
    expect(buffers()).toBe(before);
  });

  it('Select picks like cpu, for float32 and int32', async () => {
    for (const dtype of ['float32', 'int32'] as const) {
      const calls = await expectSameAsCpu(
        info,
        'Select',
        () => {
          const c = tf.greater(t([3, 4], 51), 0);
          const a = tf.cast(tf.mul(t([3, 4], 52), 10), dtype);
          const b = tf.cast(tf.mul(t([4], 53), 10), dtype);
          const y = tf.where(c, a, b);
          const grads =
            dtype === 'float32'
              ? tf.grads((u: tf.Tensor, v: tf.Tensor) =>
                  tf.sum(tf.mul(tf.where(c, u, v), t([3, 4], 54))),
                )([a, b])
              : [];
          return [tf.cast(y, 'float32'), ...grads];
        },
        `select ${dtype}`,
      );
      expect(calls).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('Pow with a scalar exponent of 2 or 3 (host multiplies)', () => {
  for (const exponent of [2, 3, 2.5]) {
    it(`x^${exponent}: forward and gradient equal cpu`, async () => {
      const calls = await expectSameAsCpu(
        info,
        'Pow',
        () => {
          const x = t([4, 5, 6], 121, 0.2, 2);
          const w = t([4, 5, 6], 122);
          return [
            tf.pow(x, exponent),
            tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.pow(v, exponent), w)))(x),
          ];
        },
        `pow ${exponent}`,
        { rtol: 2e-6, atol: 1e-6 },
      );
      // Forward, the taped forward, and pow(x, exponent − 1) in the gradient.
      expect(calls).toBe(3);
    });
  }
});
