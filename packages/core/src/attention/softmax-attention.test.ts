import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import type { AttentionContext, PositionEncoding } from '../encoding/position-encoding.js';
import { sequencePositions } from '../positions/positions.js';
import { attentionContext, expectNoTensorLeaks } from '../testing/index.js';
import { softmaxAttention } from './softmax-attention.js';
import { causalMask, MASKED } from './masks.js';
import { MultiHeadAttention } from './multi-head-attention.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Nq queries after a cache of Nk − Nq keys. */
function ctxFor(causal: boolean, nq: number, nk: number): AttentionContext {
  return attentionContext({
    queries: sequencePositions(1, nq, nk - nq),
    keys: sequencePositions(1, nk),
    headDim: 4,
    causal,
  });
}

/** softmax(q·kᵀ/√D + bias + mask)·v written out in plain JS. */
function reference(
  q: number[][],
  k: number[][],
  v: number[][],
  bias: (i: number, j: number) => number,
  visible: (i: number, j: number) => boolean,
) {
  const d = q[0]!.length;
  return q.map((qi, i) => {
    const logits = k.map((kj, j) =>
      visible(i, j)
        ? qi.reduce((s, x, t) => s + x * kj[t]!, 0) / Math.sqrt(d) + bias(i, j)
        : -Infinity,
    );
    const m = Math.max(...logits);
    const w = logits.map((l) => Math.exp(l - m));
    const z = w.reduce((a, b) => a + b, 0);
    return v[0]!.map((_, c) => w.reduce((s, wj, j) => s + (wj / z) * v[j]![c]!, 0));
  });
}

describe('softmax attention', () => {
  it('causal mask aligns queries with the last keys: a prefix is fully visible', () => {
    const m = causalMask(2, 5).arraySync();
    expect(m).toEqual([
      [0, 0, 0, 0, MASKED],
      [0, 0, 0, 0, 0],
    ]);
    expect(() => causalMask(3, 2)).toThrow(/at least as many keys as queries/);
  });

  it('equals the written-out formula with a score bias and a value bias, causal with a prefix', () => {
    const nq = 3;
    const nk = 5;
    const q = tf.randomNormal([1, 1, nq, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
    const k = tf.randomNormal([1, 1, nk, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
    const v = tf.randomNormal([1, 1, nk, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    // A distance bias computed from the context's positions (not indices): checks both are passed.
    const distanceBias: PositionEncoding = {
      name: 'test-distance',
      config: {},
      supports: ['softmax'],
      scoreBias: (_q, _k, ctx) => {
        const qp = ctx.queryPositions.kind === '1d' ? ctx.queryPositions.ids : undefined;
        const kp = ctx.keyPositions.kind === '1d' ? ctx.keyPositions.ids : undefined;
        return tf.mul(0.3, tf.sub(kp!.expandDims(1), qp!.expandDims(2))).expandDims(1);
      },
      valueBias: (probs) => tf.mul(tf.sum(probs, -1, true), tf.ones([1, 1, 1, 3])) as tf.Tensor4D,
    };
    const ctx = ctxFor(true, nq, nk);
    const { output, probs } = softmaxAttention(q, k, v, {
      encodings: [distanceBias],
      ctx,
      returnProbs: true,
    });
    const ref = reference(
      q.arraySync()[0]![0]!,
      k.arraySync()[0]![0]!,
      v.arraySync()[0]![0]!,
      (i, j) => 0.3 * (j - (i + nk - nq)),
      (i, j) => j <= i + nk - nq,
    ).map((row) => row.map((x) => x + 1)); // value bias adds Σ_j p_ij = 1
    const got = output.arraySync()[0]![0]!;
    got.forEach((row, i) => row.forEach((x, c) => expect(x).toBeCloseTo(ref[i]![c]!, 5)));
    expect(probs!.shape).toEqual([1, 1, nq, nk]);
    probs!
      .sum(-1)
      .dataSync()
      .forEach((s) => expect(s).toBeCloseTo(1, 6));
  });

  it('padding keys get no weight', () => {
    const q = tf.randomNormal([1, 1, 3, 4], 0, 1, 'float32', 4) as tf.Tensor4D;
    const k = tf.randomNormal([1, 1, 3, 4], 0, 1, 'float32', 5) as tf.Tensor4D;
    const v = tf.randomNormal([1, 1, 3, 2], 0, 1, 'float32', 6) as tf.Tensor4D;
    const { probs } = softmaxAttention(q, k, v, {
      encodings: [],
      ctx: ctxFor(false, 3, 3),
      keyValid: tf.tensor2d([[1, 1, 0]]),
      returnProbs: true,
    });
    probs!.arraySync()[0]![0]!.forEach((row) => expect(row[2]).toBe(0));
  });
});

describe('MultiHeadAttention', () => {
  it('calls the hooks in order', () => {
    const calls: string[] = [];
    const recorder: PositionEncoding = {
      name: 'test-recorder',
      config: {},
      supports: ['softmax'],
      projectionInputs: (xq, xk) => (calls.push('projectionInputs'), { xq, xk }),
      queryKey: (qkv) => (calls.push('queryKey'), qkv),
      scoreBias: (q) => (calls.push('scoreBias'), tf.zeros([1, 1, q.shape[2], q.shape[2]])),
      valueBias: (probs) => (
        calls.push('valueBias'),
        tf.zeros([probs.shape[0], probs.shape[1], probs.shape[2], 4]) as tf.Tensor4D
      ),
    };
    const mha = new MultiHeadAttention({
      name: 'layers.0.attn',
      modelDim: 8,
      heads: 2,
      layer: 0,
      seed: 1,
    });
    mha.apply(tf.randomNormal([1, 3, 8], 0, 1, 'float32', 7) as tf.Tensor3D, {
      positions: sequencePositions(1, 3),
      encodings: [recorder],
      causal: false,
    });
    expect(calls).toEqual(['projectionInputs', 'queryKey', 'scoreBias', 'valueBias']);
    expect(Object.keys(mha.parameters()).sort()).toEqual(
      ['wk', 'wo', 'wq', 'wv']
        .flatMap((w) => [`layers.0.attn.${w}.bias`, `layers.0.attn.${w}.weight`])
        .sort(),
    );
  });

  it('projectionInputs changes queries and keys only; values see the plain input', () => {
    // Zeroing the query/key inputs makes every score equal (biases start at 0), so attention is
    // uniform and the output is wo(mean_j wv(x_j)); had values seen zeros too, it would be 0.
    const zeroQK: PositionEncoding = {
      name: 'test-zero-qk',
      config: {},
      supports: ['softmax'],
      projectionInputs: (xq, xk) => ({ xq: tf.zerosLike(xq), xk: tf.zerosLike(xk) }),
    };
    const mha = new MultiHeadAttention({ name: 'a', modelDim: 8, heads: 2, layer: 0, seed: 2 });
    const x = tf.randomNormal([1, 4, 8], 0, 1, 'float32', 8) as tf.Tensor3D;
    const { output } = mha.apply(x, {
      positions: sequencePositions(1, 4),
      encodings: [zeroQK],
      causal: false,
    });
    const p = mha.parameters();
    const values = tf.add(tf.matMul(x.reshape([4, 8]), p['a.wv.weight']!), p['a.wv.bias']!);
    const expected = tf.add(
      tf.matMul(tf.mean(values, 0, true), p['a.wo.weight']!),
      p['a.wo.bias']!,
    );
    output
      .arraySync()[0]!
      .forEach((row) =>
        row.forEach((v, c) =>
          expect(v).toBeCloseTo((expected.arraySync() as number[][])[0]![c]!, 5),
        ),
      );
  });

  it('one product for q, k and v (no hook changes their inputs) equals three, output and gradients', () => {
    // An identity projectionInputs hook that returns new tensors forces the three products.
    const copyInputs: PositionEncoding = {
      name: 'test-copy-inputs',
      config: {},
      supports: ['softmax'],
      projectionInputs: (xq, xk) => ({ xq: tf.add(xq, 0), xk: tf.add(xk, 0) }),
    };
    const mha = new MultiHeadAttention({ name: 'a', modelDim: 8, heads: 2, layer: 0, seed: 4 });
    const params = mha.parameters();
    // Non-zero biases, so their gradients and their place in the product are tested too.
    for (const [name, p] of Object.entries(params))
      if (name.endsWith('.bias'))
        p.assign(tf.randomNormal(p.shape, 0, 0.5, 'float32', name.length));
    const x = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 10) as tf.Tensor3D;
    const w = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 11);
    const run = (encodings: PositionEncoding[]) =>
      tf.tidy(() => {
        const loss = () =>
          tf.sum(
            tf.mul(
              mha.apply(x, { positions: sequencePositions(2, 5), encodings, causal: true }).output,
              w,
            ),
          ) as tf.Scalar;
        const { value, grads } = tf.variableGrads(loss, Object.values(params));
        return [value, ...Object.values(params).map((p) => grads[p.name]!)].map((t) =>
          Array.from(t.dataSync()),
        );
      });
    const together = run([]);
    const separate = run([copyInputs]);
    expect(together).toHaveLength(1 + Object.keys(params).length);
    together.forEach((values, i) =>
      values.forEach((v, j) => expect(v).toBeCloseTo(separate[i]![j]!, 5)),
    );
  });

  it('an encoding that does not support the attention kind fails with a clear message', () => {
    const mha = new MultiHeadAttention({
      name: 'a',
      modelDim: 8,
      heads: 2,
      layer: 0,
      seed: 1,
      kind: 'linear',
    });
    const only: PositionEncoding = { name: 'softmax-only', config: {}, supports: ['softmax'] };
    const x = tf.zeros([1, 2, 8]) as tf.Tensor3D;
    expect(() =>
      mha.apply(x, { positions: sequencePositions(1, 2), encodings: [only], causal: true }),
    ).toThrow("encoding 'softmax-only' does not support linear attention; it supports: softmax");
  });

  it('keys with positions of their own (a cache) are attended with the causal prefix visible', () => {
    const mha = new MultiHeadAttention({ name: 'a', modelDim: 8, heads: 2, layer: 0, seed: 3 });
    const full = tf.randomNormal([2, 6, 8], 0, 1, 'float32', 9) as tf.Tensor3D;
    const whole = mha.apply(full, {
      positions: sequencePositions(2, 6),
      encodings: [],
      causal: true,
    }).output;
    const tail = mha.apply(full.slice([0, 4, 0], [-1, 2, -1]) as tf.Tensor3D, {
      positions: sequencePositions(2, 2, 4),
      keyInput: full,
      keyPositions: sequencePositions(2, 6),
      encodings: [],
      causal: true,
    }).output;
    const diff = tf
      .sub(whole.slice([0, 4, 0], [-1, 2, -1]), tail)
      .abs()
      .max()
      .dataSync()[0]!;
    expect(diff).toBeLessThan(1e-5);
  });

  it('leaks no tensors', () => {
    const mha = new MultiHeadAttention({ name: 'a', modelDim: 8, heads: 2, layer: 0, seed: 3 });
    const x = tf.randomNormal([2, 5, 8]) as tf.Tensor3D;
    const positions = sequencePositions(2, 5);
    expectNoTensorLeaks(() => {
      const { output, probs } = mha.apply(x, {
        positions,
        encodings: [],
        causal: true,
        returnProbs: true,
      });
      tf.dispose([output, probs!]);
    });
  });
});
