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
import { KeyQueryRelativeEncoding, type KeyQueryMode } from './key-query-relative.js';

onCpuWithoutLeaks();

const spec = testBuildSpec({ layers: 2, heads: 2, headDim: 4, maxPositions: 6, seed: 13 });

function context(queries: number[][], keys: number[][], layer = 1) {
  return attentionContext({ queries, keys, layer, heads: spec.heads, headDim: spec.headDim });
}

const dot = (a: number[], b: number[]) => a.reduce((s, x, d) => s + x * b[d]!, 0);

/** HF's row distance + max_position_embeddings − 1 with distance = query − key, clamped to the table. */
function tableRow(queryPosition: number, keyPosition: number): number {
  const m = spec.maxPositions;
  return Math.max(-(m - 1), Math.min(m - 1, queryPosition - keyPosition)) + m - 1;
}

// Distances up to 9 in magnitude: beyond ±5 they clamp to the end rows of the 11-row table.
const queryIds = [
  [4, 5, 9],
  [0, 1, 2],
];
const keyIds = [
  [0, 2, 4, 6, 1],
  [2, 3, 9, 1, 0],
];

/** The encoding's bias as nested arrays; frees what it creates. */
function biasOf(
  encoding: KeyQueryRelativeEncoding,
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  queries: number[][],
  keys: number[][],
) {
  const ctx = context(queries, keys);
  const bias = encoding.scoreBias(q, k, ctx);
  const values = bias.arraySync();
  bias.dispose();
  disposeAttentionContext(ctx);
  return values;
}

describe('KeyQueryRelativeEncoding', () => {
  for (const mode of ['key_query', 'key'] as KeyQueryMode[]) {
    it(`scoreBias equals (q_i·p_ij${mode === 'key_query' ? ' + k_j·p_ij' : ''})/√D written out (mode ${mode})`, () => {
      const encoding = new KeyQueryRelativeEncoding({ mode });
      encoding.build(spec);
      const distanceTable = encoding.parameters()['layers.1.attn.distance_embedding']!;
      expect(distanceTable.shape).toEqual([2 * spec.maxPositions - 1, spec.headDim]);
      const table = distanceTable.arraySync() as number[][];
      const q = tf.randomNormal([2, 2, 3, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
      const k = tf.randomNormal([2, 2, 5, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
      const values = biasOf(encoding, q, k, queryIds, keyIds);
      const [qs, ks] = [q.arraySync(), k.arraySync()];
      for (let b = 0; b < 2; b++)
        for (let h = 0; h < 2; h++)
          for (let i = 0; i < 3; i++)
            for (let j = 0; j < 5; j++) {
              const p = table[tableRow(queryIds[b]![i]!, keyIds[b]![j]!)]!;
              const keyTerm = mode === 'key_query' ? dot(ks[b]![h]![j]!, p) : 0;
              expect(values[b]![h]![i]![j]).toBeCloseTo(
                (dot(qs[b]![h]![i]!, p) + keyTerm) / Math.sqrt(4),
                5,
              );
            }
      tf.dispose([q, k]);
      encoding.dispose();
    });
  }

  it('depends only on key − query: shifting every position gives the same bias', () => {
    const encoding = new KeyQueryRelativeEncoding({ mode: 'key_query' });
    encoding.build(spec);
    const q = tf.randomNormal([2, 2, 3, 4], 0, 1, 'float32', 3) as tf.Tensor4D;
    const k = tf.randomNormal([2, 2, 5, 4], 0, 1, 'float32', 4) as tf.Tensor4D;
    const shift = (ids: number[][]) => ids.map((row) => row.map((p) => p + 500));
    expect(biasOf(encoding, q, k, shift(queryIds), shift(keyIds))).toEqual(
      biasOf(encoding, q, k, queryIds, keyIds),
    );
    tf.dispose([q, k]);
    encoding.dispose();
  });

  it('gives the layer table a gradient at the rows in use', () => {
    const encoding = new KeyQueryRelativeEncoding({ mode: 'key_query' });
    encoding.build(spec);
    const table = encoding.parameters()['layers.1.attn.distance_embedding']!;
    const q = tf.randomNormal([1, 2, 2, 4], 0, 1, 'float32', 5) as tf.Tensor4D;
    const ctx = context([[0, 1]], [[0, 1]]);
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.square(encoding.scoreBias(q, q, ctx))) as tf.Scalar,
      [table],
    );
    // Distances −1, 0, 1 → rows 4, 5, 6 of 0…10.
    const rowNorms = (grads[table.name]!.arraySync() as number[][]).map((r) =>
      r.reduce((s, x) => s + Math.abs(x), 0),
    );
    rowNorms.forEach((norm, r) =>
      r >= 4 && r <= 6 ? expect(norm).toBeGreaterThan(0) : expect(norm).toBe(0),
    );
    tf.dispose([value, ...Object.values(grads)]);
    q.dispose();
    disposeAttentionContext(ctx);
    encoding.dispose();
  });

  it('names one table per layer and frees them; explains a missing build and a bad mode', () => {
    const encoding = createEncoding({ name: 'relative_key_query' }) as KeyQueryRelativeEncoding;
    const q = tf.zeros([1, 2, 1, 4]) as tf.Tensor4D;
    const ctx = context([[0]], [[0]]);
    expect(() => encoding.scoreBias(q, q, ctx)).toThrow(/build\(spec\) must be called/);
    encoding.build(spec);
    expect(Object.keys(encoding.parameters())).toEqual([
      'layers.0.attn.distance_embedding',
      'layers.1.attn.distance_embedding',
    ]);
    encoding.dispose();
    tf.dispose(q);
    disposeAttentionContext(ctx);
    expect(() => createEncoding({ name: 'relative_key_query', mode: 'query' })).toThrow(
      /field 'mode' = "query" is not allowed; expected one of "key_query", "key"/,
    );
  });
});
