import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { sequencePositions } from '../positions/positions.js';
import { activate } from '../nn/layers.js';
import { TransformerLayer, type TransformerLayerOptions } from './transformer-layer.js';

const DIM = 4;

/** Float64 layer norm of one row, gain 1 and bias 0. */
function layerNorm64(row: number[], eps: number): number[] {
  const mean = row.reduce((a, b) => a + b, 0) / row.length;
  const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
  return row.map((v) => (v - mean) / Math.sqrt(variance + eps));
}

/**
 * A layer whose attention outputs zero (wo = 0) and whose feed-forward block is act(x) (ffn.in
 * and ffn.out identities): what is left is exactly the norms, the activation and the residuals.
 */
function bareLayer(options: Partial<TransformerLayerOptions>): TransformerLayer {
  const layer = new TransformerLayer({
    layer: 0,
    modelDim: DIM,
    heads: 2,
    ffnDim: DIM,
    norm: 'pre',
    attention: 'softmax',
    seed: 0,
    ...options,
  });
  const p = layer.parameters();
  p['layers.0.attn.wo.weight']!.assign(tf.zeros([DIM, DIM]));
  p['layers.0.ffn.in.weight']!.assign(tf.eye(DIM));
  p['layers.0.ffn.out.weight']!.assign(tf.eye(DIM));
  return layer;
}

function run(layer: TransformerLayer, rows: number[][]): number[][] {
  return tf.tidy(() => {
    const x = tf.tensor3d([rows]);
    const positions = sequencePositions(1, rows.length);
    const out = layer.apply(x, { positions, encodings: [], causal: false }).output;
    return (out.arraySync() as number[][][])[0]!;
  });
}

describe('TransformerLayer options', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  // Rows whose normalised values reach ±2.7, where the tanh and erf GELUs are 4.7e-4 apart.
  const rows = [
    [2.7, -0.9, -0.9, -0.9],
    [-1.3, 0.4, 2.2, -1.3],
  ];

  // The activations themselves are tested against float64 in nn/; here, that the option arrives.
  for (const activation of ['gelu', 'gelu_erf', 'relu'] as const)
    it(`activation '${activation}': a pre-LN layer computes x + act(LN(x))`, () => {
      const layer = bareLayer({ activation });
      const got = run(layer, rows);
      const normed = rows.map((row) => layerNorm64(row, 1e-5));
      const want = tf.tidy(() =>
        tf.add(tf.tensor2d(rows), activate(tf.tensor2d(normed), activation)).arraySync(),
      ) as number[][];
      want.forEach((row, i) =>
        row.forEach((w, j) => expect(Math.abs(got[i]![j]! - w)).toBeLessThan(1e-5)),
      );
      for (const v of Object.values(layer.parameters())) v.dispose();
    });

  for (const layerNormEps of [1e-12, undefined])
    it(`layerNormEps ${layerNormEps ?? 'default (1e-5)'} reaches both norms of a post-LN layer`, () => {
      // Rows of variance ~1e-8 into each norm (the first one's gain is 1e-4), where an eps of
      // 1e-5 dominates the variance and one of 1e-12 vanishes beside it.
      const layer = bareLayer({ norm: 'post', activation: 'relu', layerNormEps });
      const gain = 1e-4;
      layer.parameters()['layers.0.norm1.weight']!.assign(tf.fill([DIM], gain));
      const x = [1e-4, -1e-4, 2e-4, -2e-4];
      const eps = layerNormEps ?? 1e-5;
      const h = layerNorm64(x, eps).map((v) => gain * v);
      const want = layerNorm64(
        h.map((v) => v + Math.max(0, v)),
        eps,
      );
      const scale = Math.max(...want.map(Math.abs));
      const got = run(layer, [x])[0]!;
      want.forEach((w, j) => expect(Math.abs(got[j]! - w)).toBeLessThan(1e-3 * scale));
      for (const v of Object.values(layer.parameters())) v.dispose();
    });
});
