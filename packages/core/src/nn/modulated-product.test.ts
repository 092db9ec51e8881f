import { describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { onCpuWithoutLeaks } from '../testing/cpu-without-leaks.js';
import { expectClose } from '../testing/expect-close.js';
import { checkGradientsByFiniteDifferences } from '../testing/finite-differences.js';
import { modulatedProduct, modulatedProductGradient } from './modulated-product.js';

interface Case {
  label: string;
  /** H, B, N, D, P, C, J, R. */
  sizes: [number, number, number, number, number, number, number, number];
  /** W's P when it differs from Ω's. */
  weightRows?: number;
}

const CASES: Case[] = [
  { label: 'one chunk, shared by the batch', sizes: [2, 3, 5, 4, 1, 8, 3, 2] },
  { label: 'a short last chunk, shared by the batch', sizes: [2, 2, 11, 3, 1, 4, 2, 3] },
  { label: 'full chunks, one table per batch row', sizes: [1, 2, 8, 2, 2, 4, 4, 3] },
  { label: 'chunks of one position', sizes: [1, 1, 3, 2, 1, 1, 2, 2] },
  {
    label: 'a shared table, weights per batch row',
    sizes: [2, 2, 7, 2, 1, 3, 2, 2],
    weightRows: 2,
  },
  {
    label: 'a table per batch row, shared weights',
    sizes: [1, 3, 6, 2, 3, 4, 2, 2],
    weightRows: 1,
  },
];

const values = (seed: number, n: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 1.5);

function operands(c: Case) {
  const [h, b, n, d, p, chunk, j, r] = c.sizes;
  const pw = c.weightRows ?? p;
  const chunks = Math.ceil(n / chunk);
  return {
    x: values(1, h * b * n * d),
    omega: values(2, h * p * chunk * j * d),
    weights: values(3, h * pw * chunks * j * d * r),
    shapes: {
      x: [h, b, n, d] as [number, number, number, number],
      omega: [h, p, chunk, j, d] as [number, number, number, number, number],
      weights: [h, pw, chunks, j * d, r] as [number, number, number, number, number],
    },
  };
}

/** y[h,b,c·C+t,r] = Σ_{j,d} x·Ω[h,p,t,j,d]·W[h,p,c,j·D+d,r], in float64 loops. */
function definition(c: Case): Float64Array {
  const [h, b, n, d, p, chunk, j, r] = c.sizes;
  const { x, omega, weights } = operands(c);
  const pw = c.weightRows ?? p;
  const chunks = Math.ceil(n / chunk);
  const y = new Float64Array(h * b * n * r);
  for (let hh = 0; hh < h; hh++)
    for (let bb = 0; bb < b; bb++)
      for (let i = 0; i < n; i++) {
        const [ci, t] = [Math.floor(i / chunk), i % chunk];
        const [pp, pq] = [p === 1 ? 0 : bb, pw === 1 ? 0 : bb];
        for (let rr = 0; rr < r; rr++) {
          let sum = 0;
          for (let jj = 0; jj < j; jj++)
            for (let dd = 0; dd < d; dd++)
              sum +=
                x[((hh * b + bb) * n + i) * d + dd]! *
                omega[(((hh * p + pp) * chunk + t) * j + jj) * d + dd]! *
                weights[(((hh * pw + pq) * chunks + ci) * j * d + jj * d + dd) * r + rr]!;
          y[((hh * b + bb) * n + i) * r + rr] = sum;
        }
      }
  return y;
}

describe('modulatedProduct (composite TF.js ops)', () => {
  onCpuWithoutLeaks();

  for (const c of CASES) {
    it(`${c.label}: equals the definition`, () => {
      const { x, omega, weights, shapes } = operands(c);
      const y = tf.tidy(() =>
        modulatedProduct(
          tf.tensor(x, shapes.x) as tf.Tensor4D,
          tf.tensor(omega, shapes.omega) as tf.Tensor5D,
          tf.tensor(weights, shapes.weights) as tf.Tensor5D,
        ).dataSync(),
      );
      expectClose(y, definition(c), { atol: 1e-5, rtol: 1e-5 }, c.label);
    });

    it(`${c.label}: the explicit gradient equals TF.js's gradient of the composite`, () => {
      const { x, omega, weights, shapes } = operands(c);
      const [explicit, autodiff] = tf.tidy(() => {
        const xs = tf.tensor(x, shapes.x) as tf.Tensor4D;
        const os = tf.tensor(omega, shapes.omega) as tf.Tensor5D;
        const ws = tf.tensor(weights, shapes.weights) as tf.Tensor5D;
        const [h, b, n] = xs.shape;
        const r = c.sizes[7];
        const dy = tf.tensor(values(4, h * b * n * r), [h, b, n, r]) as tf.Tensor4D;
        const g = modulatedProductGradient(dy, xs, os, ws);
        const auto = tf.grads((a, o, w) =>
          modulatedProduct(a as tf.Tensor4D, o as tf.Tensor5D, w as tf.Tensor5D),
        )([xs, os, ws], dy);
        const read = (t: tf.Tensor) => Array.from(t.dataSync());
        return [[g.dx, g.dOmega, g.dWeights].map(read), auto.map(read)];
      });
      explicit!.forEach((e, i) =>
        expectClose(e, autodiff![i]!, { atol: 1e-5, rtol: 1e-5 }, `${c.label} gradient ${i}`),
      );
    });
  }

  it('gradients of x, Ω and W agree with finite differences', () => {
    const c = CASES[1]!;
    const { x, omega, weights, shapes } = operands(c);
    // Variables outlive the tidy; their source tensors do not.
    const variables = tf.tidy(() => ({
      x: tf.variable(tf.tensor(x, shapes.x)),
      omega: tf.variable(tf.tensor(omega, shapes.omega)),
      weights: tf.variable(tf.tensor(weights, shapes.weights)),
    }));
    checkGradientsByFiniteDifferences(
      () => [
        modulatedProduct(
          variables.x as unknown as tf.Tensor4D,
          variables.omega as unknown as tf.Tensor5D,
          variables.weights as unknown as tf.Tensor5D,
        ),
      ],
      variables,
      { seed: 7 },
    );
    tf.dispose(Object.values(variables));
  });

  it('an empty sequence gives an empty output and zero gradients', () => {
    tf.tidy(() => {
      const x = tf.zeros([2, 1, 0, 3]) as tf.Tensor4D;
      const omega = tf.ones([2, 1, 4, 2, 3]) as tf.Tensor5D;
      const weights = tf.zeros([2, 1, 0, 6, 5]) as tf.Tensor5D;
      expect(modulatedProduct(x, omega, weights).shape).toEqual([2, 1, 0, 5]);
      const g = modulatedProductGradient(tf.zeros([2, 1, 0, 5]), x, omega, weights);
      expect(g.dOmega.shape).toEqual([2, 1, 4, 2, 3]);
      expect(g.dOmega.sum().dataSync()[0]).toBe(0);
    });
  });

  it('bad shapes are errors naming the operand, its shape and what is allowed', () => {
    const run = (x: number[], omega: number[], weights: number[]) => () =>
      tf.tidy(() =>
        modulatedProduct(
          tf.zeros(x) as tf.Tensor as tf.Tensor4D,
          tf.zeros(omega) as tf.Tensor as tf.Tensor5D,
          tf.zeros(weights) as tf.Tensor as tf.Tensor5D,
        ),
      );
    expect(run([1, 2, 5, 3], [1, 1, 4, 2, 3], [1, 1, 1, 6, 2])).toThrow(
      /weights must have ⌈N \/ C⌉ = 2 chunks for N = 5, C = 4; got 1 .*weights \[1, 1, 1, 6, 2\]/,
    );
    expect(run([1, 2, 5, 3], [1, 3, 4, 2, 3], [1, 3, 2, 6, 2])).toThrow(
      /omega's P must be 1 or x's B = 2; got 3/,
    );
    expect(run([1, 2, 5, 3], [1, 1, 4, 2, 3], [1, 1, 2, 5, 2])).toThrow(
      /weights' fourth axis must be J·D = 6; got 5/,
    );
    expect(run([1, 2, 5, 3], [1, 1, 4, 2, 4], [1, 1, 2, 8, 2])).toThrow(
      /omega's last axis must be x's D = 3; got 4/,
    );
  });
});
