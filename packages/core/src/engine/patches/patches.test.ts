/**
 * Each TF.js 4.22 patch with a test that fails without it (the unpatched gradients throw or are
 * wrong; the checks here compare with values computed independently).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.js';
import '@tensorflow/tfjs-backend-wasm';
import { unsortedSegmentSumValues } from './wasm-unsorted-segment-sum.js';
import { cpuUnsortedSegmentSum } from './cpu-unsorted-segment-sum.js';
import { cumsum } from '../../ops/cumsum.js';

/**
 * Gradient of sum(w ⊙ f(x)) by central differences, in float64 over the float32 op; `w` has the
 * shape of f's output (`outShape`, by default x's shape).
 */
function finiteDifference(
  f: (x: tf.Tensor) => tf.Tensor,
  x: number[],
  shape: number[],
  w: number[],
  h = 1e-2,
  outShape = shape,
): number[] {
  const value = (xs: number[]) =>
    tf.tidy(() => tf.sum(tf.mul(f(tf.tensor(xs, shape)), tf.tensor(w, outShape))).dataSync()[0]!);
  return x.map((_, i) => {
    const plus = x.slice();
    const minus = x.slice();
    plus[i]! += h;
    minus[i]! -= h;
    return (value(plus) - value(minus)) / (2 * h);
  });
}

function randomArray(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return (s / 2 ** 31) * 2 - 1;
  });
}

describe('Cumsum gradient (all backends)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const [axis, exclusive, reverse] of [
    [1, false, false],
    [0, false, false],
    [-2, true, false],
    [1, false, true],
    [2, true, true],
  ] as const) {
    it(`matches finite differences on an inner axis (axis ${axis}, exclusive ${exclusive}, reverse ${reverse})`, () => {
      const shape = [2, 3, 4];
      const x = randomArray(24, 7);
      const w = randomArray(24, 11);
      const f = (t: tf.Tensor) => cumsum(t, axis, exclusive, reverse);
      const g = tf.tidy(() =>
        tf
          .grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), tf.tensor(w, shape))))(tf.tensor(x, shape))
          .arraySync(),
      );
      const expected = finiteDifference(f, x, shape, w);
      (g as number[][][]).flat(2).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 3));
    });
  }
});

describe('cumsum with a negative axis', () => {
  it('keeps the shape and equals the positive axis', () => {
    const x = tf.tensor([1, 2, 3, 4, 5, 6], [2, 3, 1]);
    const neg = cumsum(x, -2);
    expect(neg.shape).toEqual([2, 3, 1]);
    expect(Array.from(neg.dataSync())).toEqual([1, 3, 6, 4, 9, 15]);
    expect(() => cumsum(x, 3)).toThrow(/axis = 3 is out of range/);
    tf.dispose([x, neg]);
  });
});

describe('comparison ops inside a taped function', () => {
  it('where(greater(x, 0), x, 0) differentiates like relu', () => {
    const x = tf.tensor1d([-2, -0.5, 0.5, 3]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.where(tf.greater(t, 0), t, tf.zerosLike(t))))(x);
    expect(Array.from(g.dataSync())).toEqual([0, 0, 1, 1]);
    const gl = tf.grad((t: tf.Tensor) => tf.sum(tf.where(tf.less(t, 0), tf.mul(t, 2), t)))(x);
    expect(Array.from(gl.dataSync())).toEqual([2, 2, 1, 1]);
    tf.dispose([x, g, gl]);
  });
});

describe('UnsortedSegmentSum on wasm and cpu (the gather gradient)', () => {
  it('the pure kernel sums rows into segments and drops out-of-range ids', () => {
    const out = new Float32Array(6);
    unsortedSegmentSumValues([1, 2, 3, 4, 5, 6, 7, 8], [4, 2], [2, 0, 2, 5], 3, out);
    expect(Array.from(out)).toEqual([3, 4, 0, 0, 6, 8]);
  });

  it("cpu runs core's one-pass kernel, not tfjs-backend-cpu's pass per segment", () => {
    expect(tf.getKernel('UnsortedSegmentSum', 'cpu')?.kernelFunc).toBe(cpuUnsortedSegmentSum);
  });

  it('tf.gather gradient on wasm and on cpu is the sum of the output gradients per row', async () => {
    const table = randomArray(5 * 3, 3);
    const ids = [
      [4, 0, 4],
      [1, 1, 2],
    ];
    const w = randomArray(2 * 3 * 3, 5);
    const gradOn = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const f = (t: tf.Tensor) =>
          tf.sum(tf.mul(tf.gather(t, tf.tensor2d(ids, [2, 3], 'int32')), tf.tensor(w, [2, 3, 3])));
        return Array.from(
          tf
            .grad(f)(tf.tensor2d(table, [5, 3]))
            .dataSync(),
        );
      });
    };
    // Row t of the table's gradient sums the weights of every output that reads row t.
    const expected = new Array(15).fill(0);
    ids.flat().forEach((t, p) => {
      for (let d = 0; d < 3; d++) expected[t * 3 + d] += w[p * 3 + d]!;
    });
    for (const backend of ['cpu', 'wasm']) {
      const gradient = await gradOn(backend);
      expect(gradient.length).toBe(15);
      gradient.forEach((v, i) => expect(v, `${backend} [${i}]`).toBeCloseTo(expected[i]!, 5));
    }
    await tf.setBackend('cpu');
  });
});

describe('gradients of broadcasting ops reduce to the input shapes', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  const cases: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, number[], number[]][] = [
    ['BatchMatMul, broadcast batch dims', (a, b) => tf.matMul(a, b), [2, 1, 3, 4], [1, 4, 2]],
    ['BatchMatMul, matrix times batch', (a, b) => tf.matMul(a, b, true, false), [4, 3], [2, 4, 5]],
    ['Maximum', (a, b) => tf.maximum(a, b), [2, 3], [3]],
    ['Minimum', (a, b) => tf.minimum(a, b), [2, 1, 3], [4, 1]],
    ['SquaredDifference', (a, b) => tf.squaredDifference(a, b), [3, 1], [1, 4]],
  ];
  for (const [name, f, aShape, bShape] of cases) {
    it(`${name}: shapes and values match finite differences`, () => {
      const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
      const a = randomArray(size(aShape), 3);
      const b = randomArray(size(bShape), 5);
      const outShape = tf.tidy(() => f(tf.tensor(a, aShape), tf.tensor(b, bShape)).shape);
      const w = randomArray(size(outShape), 7);
      const loss = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(f(x, y), tf.tensor(w, outShape)));
      const [ga, gb] = tf.grads(loss)([tf.tensor(a, aShape), tf.tensor(b, bShape)]);
      expect(ga!.shape).toEqual(aShape);
      expect(gb!.shape).toEqual(bShape);
      const fdA = finiteDifference((x) => f(x, tf.tensor(b, bShape)), a, aShape, w, 1e-3, outShape);
      const fdB = finiteDifference((y) => f(tf.tensor(a, aShape), y), b, bShape, w, 1e-3, outShape);
      Array.from(ga!.dataSync()).forEach((g, i) => expect(g).toBeCloseTo(fdA[i]!, 2));
      Array.from(gb!.dataSync()).forEach((g, i) => expect(g).toBeCloseTo(fdB[i]!, 2));
    });
  }

  it('Prod with a negative axis differentiates like the positive axis', () => {
    const x = tf.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const negative = tf.grad((t: tf.Tensor) => tf.sum(tf.prod(t, -1)))(x);
    const positive = tf.grad((t: tf.Tensor) => tf.sum(tf.prod(t, 1)))(x);
    expect(Array.from(negative.dataSync())).toEqual([6, 3, 2, 30, 24, 20]);
    expect(Array.from(positive.dataSync())).toEqual([6, 3, 2, 30, 24, 20]);
  });
});

describe('depthwise convolution gradients on wasm', () => {
  const cases: {
    label: string;
    x: [number, number, number, number];
    filter: [number, number, number, number];
    strides: number;
    pad: 'valid' | 'same' | number;
  }[] = [
    {
      label: "convSPE's 1D valid filter",
      x: [3, 1, 12, 4],
      filter: [1, 4, 4, 1],
      strides: 1,
      pad: 'valid',
    },
    {
      label: '2D same, two filters per channel',
      x: [2, 5, 4, 3],
      filter: [3, 2, 3, 2],
      strides: 1,
      pad: 'same',
    },
    {
      label: '2D stride 2, explicit padding',
      x: [1, 7, 6, 2],
      filter: [3, 3, 2, 1],
      strides: 2,
      pad: 1,
    },
  ];
  for (const c of cases)
    it(`${c.label}: dx and dfilter equal cpu's`, async () => {
      const gradOn = async (backend: string) => {
        await tf.setBackend(backend);
        return tf.tidy(() => {
          const x = tf.tensor(
            randomArray(
              c.x.reduce((a, b) => a * b),
              11,
            ),
            c.x,
          ) as tf.Tensor4D;
          const f = tf.tensor(
            randomArray(
              c.filter.reduce((a, b) => a * b),
              12,
            ),
            c.filter,
          ) as tf.Tensor4D;
          const conv = (a: tf.Tensor, k: tf.Tensor) =>
            tf.depthwiseConv2d(a as tf.Tensor4D, k as tf.Tensor4D, c.strides, c.pad);
          const y = conv(x, f);
          const w = tf.tensor(randomArray(y.size, 13), y.shape);
          return tf
            .grads((a, k) => tf.sum(tf.mul(conv(a, k), w)))([x, f])
            .map((g) => Array.from(g.dataSync()));
        });
      };
      const expected = await gradOn('cpu');
      const actual = await gradOn('wasm');
      actual.forEach((g, i) =>
        g.forEach((v, j) => expect(v, `gradient ${i} [${j}]`).toBeCloseTo(expected[i]![j]!, 4)),
      );
      await tf.setBackend('cpu');
    });
});
