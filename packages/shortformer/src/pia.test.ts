import { describe, expect, it } from 'vitest';
import {
  createEncoding,
  decodeToFloat32,
  MultiHeadAttention,
  sequencePositions,
  tf,
} from '@posenc/core';
import {
  attentionContext,
  disposeAttentionContext,
  expectNoTensorLeaks,
  goldenCaseFiles,
  goldenEntry,
  onCpuWithoutLeaks,
  readGoldenCase,
} from '@posenc/core/testing';
import { maxAbsDiff, sharpen, testModel } from './testing/models.js';
import { piaTable, PositionInfusedAttention } from './index.js';

onCpuWithoutLeaks();

/** fairseq's `get_embedding(num_embeddings, embedding_dim)`, row p at position p, as each case has it. */
async function goldenTable(
  file: string,
): Promise<{ rows: number; dim: number; table: Float32Array }> {
  const golden = await readGoldenCase('sinusoid', file);
  const { num_embeddings: rows, embedding_dim: dim } = golden.config as {
    num_embeddings: number;
    embedding_dim: number;
  };
  const entry = goldenEntry(golden, 'expected');
  expect(entry.shape).toEqual([rows, dim]);
  return { rows, dim, table: decodeToFloat32(entry) };
}

function context(queries: number[][], keys: number[][]) {
  return attentionContext({ queries, keys, heads: 4, causal: true });
}

const goldenFiles = goldenCaseFiles('sinusoid');

describe('piaTable', () => {
  for (const file of goldenFiles) {
    it(`equals fairseq get_embedding (the table Shortformer adds): ${file}`, async () => {
      const { rows, dim, table } = await goldenTable(file);
      const actual = piaTable(
        Array.from({ length: rows }, (_, p) => p),
        dim,
      );
      expect(maxAbsDiff(Float32Array.from(actual), table)).toBeLessThanOrEqual(1e-5);
    });
  }
});

describe('PositionInfusedAttention.projectionInputs', () => {
  it.each(goldenFiles)(
    'adds the golden rows of the query positions to queries and of the key positions to keys (%s)',
    async (file) => {
      const { dim, table: golden } = await goldenTable(file);
      const pia = new PositionInfusedAttention({ base: 10000, scale: 1 });
      // A cache of 3 tokens at 1…3 before 2 current tokens at 4…5, two batch rows sharing ids.
      const ctx = context([[4, 5]], [[1, 2, 3, 4, 5]]);
      const xq = tf.randomNormal([2, 2, dim], 0, 1, 'float32', 1) as tf.Tensor3D;
      const xk = tf.randomNormal([2, 5, dim], 0, 1, 'float32', 2) as tf.Tensor3D;
      const { xq: q, xk: k } = pia.projectionInputs(xq, xk, ctx);
      const added = (out: tf.Tensor3D, input: tf.Tensor3D): number[][][] =>
        tf.tidy(() => tf.sub(out, input).arraySync() as number[][][]);
      const row = (p: number): number[] => Array.from(golden.subarray(p * dim, (p + 1) * dim));
      for (const b of [0, 1]) {
        added(q, xq)[b]!.forEach((v, i) => expect(maxAbsDiff(v, row(4 + i))).toBeLessThan(1e-5));
        added(k, xk)[b]!.forEach((v, i) => expect(maxAbsDiff(v, row(1 + i))).toBeLessThan(1e-5));
      }
      tf.dispose([xq, xk, q, k]);
      disposeAttentionContext(ctx);
    },
  );

  it('rejects positions that do not fit the inputs, naming the role and shapes', () => {
    const pia = new PositionInfusedAttention({ base: 10000, scale: 1 });
    const ctx = context([[1, 2, 3]], [[1, 2, 3]]);
    const x = tf.zeros([2, 2, 8]) as tf.Tensor3D;
    expect(() => pia.projectionInputs(x, x, ctx)).toThrow(
      /pia \(queries\): positions \[1,3\] do not fit the input \[2,2,8\]/,
    );
    tf.dispose(x);
    disposeAttentionContext(ctx);
  });

  it('is created from the registry with validated config', () => {
    const pia = createEncoding({ name: 'pia' }) as PositionInfusedAttention;
    expect(pia.config).toEqual({ base: 10000, scale: 1 });
    expect(() => createEncoding({ name: 'pia', scale: -1 })).toThrow(/'scale' = -1 .*> 0/);
    expect(() => createEncoding({ name: 'pia', offset: 2 })).toThrow(/unknown field/);
  });
});

describe('PIA puts positions into queries and keys only', () => {
  it('has no embed hook: the input embeddings carry no position', () => {
    expect((createEncoding({ name: 'pia' }) as { embed?: unknown }).embed).toBeUndefined();
    // The first layer's normalised input (its cache entry) is the same at any positions.
    const model = testModel([{ name: 'pia' }]);
    sharpen(model, 7);
    const tokens = tf.tensor2d([[3, 1, 4, 1, 5, 9]], [1, 6], 'int32');
    const at = (
      offset: number,
    ): { first: Float32Array; second: Float32Array; logits: Float32Array } => {
      const positions = sequencePositions(1, 6, offset);
      const r = model.forward(tokens, { positions });
      const out = {
        first: r.keySources[0]!.dataSync() as Float32Array,
        second: r.keySources[1]!.dataSync() as Float32Array,
        logits: r.logits.dataSync() as Float32Array,
      };
      tf.dispose([r.logits, ...r.keySources, positions.ids]);
      return out;
    };
    const a = at(1);
    const b = at(40);
    expect(maxAbsDiff(a.first, b.first)).toBe(0);
    // ... while the positions do reach attention (the second layer's input and the logits change).
    expect(maxAbsDiff(a.second, b.second)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(a.logits, b.logits)).toBeGreaterThan(1e-3);
    tokens.dispose();
    model.dispose();
  });

  it('values are projected from the plain input: output = Wo(softmax probs · Wv x)', () => {
    const dim = 16;
    const heads = 2;
    const attention = new MultiHeadAttention({
      name: 'attn',
      modelDim: dim,
      heads,
      layer: 0,
      seed: 5,
    });
    const parameters = attention.parameters();
    for (const [i, v] of Object.values(parameters).entries())
      tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', 100 + i)));
    const x = tf.randomNormal([1, 5, dim], 0, 1, 'float32', 9) as tf.Tensor3D;
    const positions = sequencePositions(1, 5, 11);
    const pia = createEncoding({ name: 'pia' });
    const { output, probs } = attention.apply(x, {
      positions,
      encodings: [pia],
      causal: true,
      returnProbs: true,
    });
    const expected = tf.tidy(() => {
      const linear = (name: string, input: tf.Tensor): tf.Tensor =>
        tf.add(
          tf.matMul(input.reshape([-1, dim]), parameters[`attn.${name}.weight`]!),
          parameters[`attn.${name}.bias`]!,
        );
      const v = linear('wv', x)
        .reshape([1, 5, heads, dim / heads])
        .transpose([0, 2, 1, 3]);
      const mixed = tf.matMul(probs!, v).transpose([0, 2, 1, 3]).reshape([5, dim]);
      return linear('wo', mixed).reshape([1, 5, dim]);
    });
    expect(maxAbsDiff(output.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
    // The positions do shape the probabilities (through queries and keys).
    const plain = attention.apply(x, { positions, encodings: [], causal: true, returnProbs: true });
    expect(maxAbsDiff(plain.probs!.dataSync(), probs!.dataSync())).toBeGreaterThan(1e-3);
    tf.dispose([x, output, probs!, expected, plain.output, plain.probs!, positions.ids]);
    tf.dispose(Object.values(parameters));
  });

  it('leaks no tensors through a forward pass and its gradient', () => {
    const model = testModel([{ name: 'pia' }]);
    const tokens = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
    const targets = tf.tensor2d([[2, 3, 4, 5]], [1, 4], 'int32');
    expectNoTensorLeaks(() => {
      const { value, grads } = tf.variableGrads(() => model.loss(tokens, targets));
      tf.dispose([value, ...Object.values(grads)]);
    });
    tf.dispose([tokens, targets]);
    model.dispose();
  });
});
