import { describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { createEncoding } from '../encoding/registry.js';
import {
  attentionContext,
  disposeAttentionContext,
  onCpuWithoutLeaks,
  testBuildSpec,
} from '../testing/index.js';
import './index.js';
import { ShawRelativeEncoding, type ShawConfig } from './shaw-relative.js';

onCpuWithoutLeaks();

const spec = testBuildSpec({ layers: 2, heads: 2, headDim: 4, maxPositions: 32, seed: 9 });
const defaults: ShawConfig = { clip: 3, keys: true, values: true, perHead: false };

function context(queries: number[][], keys: number[][], layer = 1) {
  return attentionContext({ queries, keys, layer, heads: spec.heads, headDim: spec.headDim });
}

/** Row of a^K / a^V for an integer distance j − i: clip(j − i, k) + k (Shaw et al. §3.2). */
function label(distance: number, clip: number): number {
  return Math.max(-clip, Math.min(clip, distance)) + clip;
}

/** Table row as the encoding stores it: `[L,D]` shared, or `[H,L,D]` per head. */
function row(table: number[][] | number[][][], head: number, index: number): number[] {
  return Array.isArray(table[0]![0])
    ? (table as number[][][])[head]![index]!
    : (table as number[][])[index]!;
}

const queryIds = [
  [4, 5, 9],
  [0, 1, 2],
];
const keyIds = [
  [0, 2, 4, 6, 20],
  [2, 3, -7, 1, 0],
];

describe('ShawRelativeEncoding', () => {
  for (const perHead of [false, true]) {
    it(`scoreBias equals Σ_d q_i·a^K_ij/√D written out, with clipping (perHead ${perHead})`, () => {
      const shaw = new ShawRelativeEncoding({ ...defaults, perHead });
      shaw.build(spec);
      const relK = shaw.parameters()['layers.1.attn.rel_k']!;
      expect(relK.shape).toEqual(perHead ? [2, 7, 4] : [7, 4]);
      const table = relK.arraySync() as number[][] | number[][][];
      const q = tf.randomNormal([2, 2, 3, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
      const k = tf.randomNormal([2, 2, 5, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
      const ctx = context(queryIds, keyIds);
      const bias = shaw.scoreBias!(q, k, ctx);
      const values = bias.arraySync();
      bias.dispose();
      const qs = q.arraySync();
      for (let b = 0; b < 2; b++)
        for (let h = 0; h < 2; h++)
          for (let i = 0; i < 3; i++)
            for (let j = 0; j < 5; j++) {
              const a = row(table, h, label(keyIds[b]![j]! - queryIds[b]![i]!, 3));
              const expected = qs[b]![h]![i]!.reduce((s, x, d) => s + x * a[d]!, 0) / Math.sqrt(4);
              expect(values[b]![h]![i]![j]).toBeCloseTo(expected, 5);
            }
      tf.dispose([q, k]);
      disposeAttentionContext(ctx);
      shaw.dispose();
    });

    it(`valueBias equals Σ_j α_ij a^V_ij written out (perHead ${perHead})`, () => {
      const shaw = new ShawRelativeEncoding({ ...defaults, perHead });
      shaw.build(spec);
      const table = shaw.parameters()['layers.1.attn.rel_v']!.arraySync() as
        number[][] | number[][][];
      const probs = tf.tidy(() =>
        tf.softmax(tf.randomNormal([2, 2, 3, 5], 0, 1, 'float32', 3)),
      ) as tf.Tensor4D;
      const ctx = context(queryIds, keyIds);
      const out = shaw.valueBias!(probs, ctx);
      const values = out.arraySync();
      out.dispose();
      const alpha = probs.arraySync();
      for (let b = 0; b < 2; b++)
        for (let h = 0; h < 2; h++)
          for (let i = 0; i < 3; i++)
            for (let d = 0; d < 4; d++) {
              let expected = 0;
              for (let j = 0; j < 5; j++)
                expected +=
                  alpha[b]![h]![i]![j]! *
                  row(table, h, label(keyIds[b]![j]! - queryIds[b]![i]!, 3))[d]!;
              expect(values[b]![h]![i]![d]).toBeCloseTo(expected, 6);
            }
      probs.dispose();
      disposeAttentionContext(ctx);
      shaw.dispose();
    });
  }

  it('depends only on key − query: shifting every position gives the same biases', () => {
    const shaw = new ShawRelativeEncoding(defaults);
    shaw.build(spec);
    const q = tf.randomNormal([1, 2, 3, 4], 0, 1, 'float32', 4) as tf.Tensor4D;
    const k = tf.randomNormal([1, 2, 4, 4], 0, 1, 'float32', 5) as tf.Tensor4D;
    const probs = tf.tidy(() =>
      tf.softmax(tf.randomNormal([1, 2, 3, 4], 0, 1, 'float32', 6)),
    ) as tf.Tensor4D;
    const run = (shift: number) => {
      const ctx = context(
        [[3 + shift, 4 + shift, 8 + shift]],
        [[0 + shift, 2 + shift, 7 + shift, 9 + shift]],
      );
      const scores = shaw.scoreBias!(q, k, ctx);
      const outputs = shaw.valueBias!(probs, ctx);
      const result = [scores.arraySync(), outputs.arraySync()];
      tf.dispose([scores, outputs]);
      disposeAttentionContext(ctx);
      return result;
    };
    expect(run(1000)).toEqual(run(0));
    tf.dispose([q, k, probs]);
    shaw.dispose();
  });

  it('shares positions of batch size 1 across the batch and rounds fractional distances half to even', () => {
    const shaw = new ShawRelativeEncoding({ ...defaults, values: false });
    shaw.build(spec);
    const table = shaw.parameters()['layers.0.attn.rel_k']!.arraySync() as number[][];
    const q = tf.ones([2, 2, 1, 4]) as tf.Tensor4D;
    // Distances 1.5 → 2, 2.5 → 2, −0.4 → 0, −2.6 → −3.
    const ctx = context([[0]], [[1.5, 2.5, -0.4, -2.6]], 0);
    const bias = shaw.scoreBias!(q, q, ctx);
    const values = bias.arraySync();
    [2, 2, 0, -3].forEach((distance, j) => {
      const expected = table[distance + 3]!.reduce((s, x) => s + x, 0) / 2;
      for (let b = 0; b < 2; b++) expect(values[b]![1]![0]![j]).toBeCloseTo(expected, 6);
    });
    expect(shaw.valueBias).toBeUndefined();
    tf.dispose([q, bias]);
    disposeAttentionContext(ctx);
    shaw.dispose();
  });

  it('gives both tables gradients, only at the labels that occur', () => {
    const shaw = new ShawRelativeEncoding({ ...defaults, clip: 4 });
    shaw.build(spec);
    const params = shaw.parameters();
    const relK = params['layers.0.attn.rel_k']!;
    const relV = params['layers.0.attn.rel_v']!;
    const q = tf.randomNormal([1, 2, 2, 4], 0, 1, 'float32', 7) as tf.Tensor4D;
    const ctx = context([[0, 1]], [[0, 1]], 0);
    const { value, grads } = tf.variableGrads(() => {
      const probs = tf.softmax(shaw.scoreBias!(q, q, ctx)) as tf.Tensor4D;
      return tf.sum(tf.square(shaw.valueBias!(probs, ctx))) as tf.Scalar;
    }, [relK, relV]);
    // Distances −1, 0, 1 → labels 3, 4, 5 of 0…8.
    for (const table of [relK, relV]) {
      const rowNorms = (grads[table.name]!.arraySync() as number[][]).map((r) =>
        r.reduce((s, x) => s + Math.abs(x), 0),
      );
      rowNorms.forEach((norm, l) =>
        l >= 3 && l <= 5 ? expect(norm).toBeGreaterThan(0) : expect(norm).toBe(0),
      );
    }
    tf.dispose([value, ...Object.values(grads)]);
    q.dispose();
    disposeAttentionContext(ctx);
    shaw.dispose();
  });

  it('names per-layer tables, and frees them in dispose', () => {
    const shaw = createEncoding({ name: 'shaw', clip: 2 }) as ShawRelativeEncoding;
    shaw.build(spec);
    const params = shaw.parameters();
    expect(Object.keys(params).sort()).toEqual([
      'layers.0.attn.rel_k',
      'layers.0.attn.rel_v',
      'layers.1.attn.rel_k',
      'layers.1.attn.rel_v',
    ]);
    expect(params['layers.1.attn.rel_v']!.shape).toEqual([5, 4]);
    shaw.dispose();
  });

  it('rejects a config that adds nothing, an unbuilt encoding and a missing layer', () => {
    expect(() => createEncoding({ name: 'shaw', keys: false, values: false })).toThrow(
      /encoding 'shaw': field 'keys' = false is not allowed; keys and values are both false/,
    );
    expect(() => createEncoding({ name: 'shaw', clip: 0 })).toThrow(
      /field 'clip' = 0 is not allowed; expected an integer ≥ 1/,
    );
    const shaw = new ShawRelativeEncoding(defaults);
    const q = tf.zeros([1, 2, 1, 4]) as tf.Tensor4D;
    const ctx = context([[0]], [[0]], 2);
    expect(() => shaw.scoreBias!(q, q, ctx)).toThrow(/build\(spec\) must be called/);
    shaw.build(spec);
    expect(() => shaw.scoreBias!(q, q, ctx)).toThrow(/layer 2 has no tables; built for 2 layers/);
    tf.dispose(q);
    disposeAttentionContext(ctx);
    shaw.dispose();
  });
});
