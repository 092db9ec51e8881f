/**
 * The encoding's defining properties beyond the golden cases: the paper's bucket counts, the
 * official parameter names and counts, zero tables leave attention as it was, clear errors for
 * what iRPE cannot take, the variants, and a ViT training step with iRPE that leaks nothing.
 */
import {
  createEncoding,
  gridPositions,
  MODEL_PARAMETER_SCOPES,
  positionsFromIds,
  softmaxAttention,
  tf,
  train,
  ViT,
  type EncodingBuildSpec,
  type GridPositions,
} from '@posenc/core';
import {
  attentionContext,
  disposeAttentionContext,
  expectClose,
  onCpuWithoutLeaks,
} from '@posenc/core/testing';
import { describe, expect, it } from 'vitest';
import { bucketFunctionsOf, bucketIds, IRPE_METHODS } from './buckets/bucket-ids.js';
import { coefficientsOf } from './buckets/piecewise-index.js';
import { IrpeEncoding, irpeDefinition } from './irpe-encoding.js';
import './index.js';

onCpuWithoutLeaks();

function spec(sizes: Partial<EncodingBuildSpec> = {}): EncodingBuildSpec {
  return {
    layers: 1,
    heads: 2,
    headDim: 4,
    modelDim: 8,
    maxPositions: 13,
    grid: { height: 3, width: 4, skip: 1 },
    seed: 1,
    scopes: MODEL_PARAMETER_SCOPES,
    ...sizes,
  };
}

function irpe(config: Record<string, unknown>, sizes: Partial<EncodingBuildSpec> = {}) {
  const encoding = createEncoding({ name: 'irpe', ...config }) as IrpeEncoding;
  encoding.build(spec(sizes));
  return encoding;
}

describe('iRPE buckets as the paper counts them', () => {
  // The "#buckets" of the released models (rpe_models.py: ..._euc_20, _quant_51, _cross_56,
  // _product_50) are the ids a 14×14 grid with a class token uses, not the table sizes.
  for (const [method, ratio, used] of [
    ['euc', 20, 20],
    ['quant', 33, 51],
    ['cross', 20, 56],
    ['product', 1.9, 50],
  ] as const)
    it(`${method} at ratio ${ratio} uses ${used} buckets on 14×14 + class token`, () => {
      const c = coefficientsOf(ratio);
      const distinct = bucketFunctionsOf(method).reduce(
        (n, fn) => n + new Set(bucketIds(fn, c, 14, 14, 1)).size,
        0,
      );
      expect(distinct).toBe(used);
    });

  it('product ratio 1.9 on a 3×3 grid with a class token: offsets by row and column, 49 for the class token', () => {
    const ids = bucketIds('product', coefficientsOf(1.9), 3, 3, 1);
    const rows = Array.from({ length: 10 }, (_, i) => [...ids.subarray(i * 10, i * 10 + 10)]);
    expect(rows[0]).toEqual(new Array(10).fill(49));
    expect(rows[1]).toEqual([49, 24, 23, 22, 17, 16, 15, 10, 9, 8]);
    expect(rows[9]).toEqual([49, 40, 39, 38, 33, 32, 31, 26, 25, 24]);
  });

  it('caches the grid ids per (method, α, β, γ, h, w)', () => {
    const c = coefficientsOf(1.9);
    expect(bucketIds('euc', c, 5, 6, 0)).toBe(bucketIds('euc', c, 5, 6, 0));
    expect(bucketIds('euc', c, 5, 6, 0)).not.toBe(bucketIds('euc', c, 6, 5, 0));
  });
});

describe('IrpeEncoding', () => {
  it("names its tables as the official modules and has DeiT-S's parameter counts", () => {
    const deitSmall = { layers: 12, heads: 6, headDim: 64, modelDim: 384, maxPositions: 197 };
    const grid = { height: 14, width: 14, skip: 1 };
    const count = (e: IrpeEncoding) =>
      Object.values(e.parameters()).reduce((n, v) => n + v.size, 0);
    const shared = irpe({}, { ...deitSmall, grid });
    // 64 × 50 per layer × 12 layers (README: 22.05M → 22.09M parameters).
    expect(count(shared)).toBe(38_400);
    expect(Object.keys(shared.parameters())[3]).toBe('layers.3.attn.rpe_k.lookup_table_weight');
    const unshared = irpe({ sharedHead: false }, { ...deitSmall, grid });
    expect(count(unshared)).toBe(230_400);
    const cross = irpe({ method: 'cross', mode: 'bias', on: 'qk' });
    expect(Object.keys(cross.parameters())).toEqual([
      'layers.0.attn.rpe_q.rp_rows.lookup_table_bias',
      'layers.0.attn.rpe_q.rp_cols.lookup_table_bias',
      'layers.0.attn.rpe_k.rp_rows.lookup_table_bias',
      'layers.0.attn.rpe_k.rp_cols.lookup_table_bias',
    ]);
    expect(cross.bucketCounts).toEqual([8, 8]);
    for (const e of [shared, unshared, cross]) e.dispose();
  });

  it('starts from zero tables, so attention is what it was without iRPE', () => {
    const encoding = irpe({ on: 'qkv' });
    const q = tf.randomNormal([2, 2, 13, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
    const ctx = attentionContext({ queries: gridPositions(2, 3, 4, 1), headDim: 4 });
    const run = (encodings: IrpeEncoding[]) =>
      softmaxAttention(q, tf.reverse(q, 2) as tf.Tensor4D, q, { encodings, ctx }).output;
    const [plain, withIrpe] = tf.tidy(() => [run([]), run([encoding])]);
    expectClose(withIrpe!, plain!, { atol: 1e-6 });
    tf.dispose([q, plain!, withIrpe!]);
    disposeAttentionContext(ctx);
    encoding.dispose();
  });

  it('refuses what iRPE cannot take, naming it', () => {
    expect(() => createEncoding({ name: 'irpe', mode: 'bias', on: 'qv' })).toThrow(
      /'on' = "qv".*bias mode has no table on values/,
    );
    expect(() => createEncoding({ name: 'irpe', method: 'manhattan' })).toThrow(/'method'/);
    const noGrid = createEncoding({ name: 'irpe' });
    expect(() => noGrid.build!({ ...spec(), grid: undefined })).toThrow(/needs a 2D model/);
    const encoding = irpe({ mode: 'bias' });
    const ids = positionsFromIds([Array.from({ length: 13 }, (_, i) => i)]);
    const full = gridPositions(1, 3, 4, 1);
    const square = { ...full, height: undefined, width: undefined };
    const scattered: GridPositions = {
      ...full,
      cols: tf.tensor2d([[0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 5]]),
    };
    const noSkip = gridPositions(1, 3, 4, 0);
    const expectRefusal = (
      queries: GridPositions | typeof ids,
      tokens: number,
      pattern: RegExp,
    ) => {
      // The context is not disposed: the positions are freed once, below.
      const ctx = attentionContext({ queries, headDim: 4 });
      const x = tf.zeros([1, 2, tokens, 4]) as tf.Tensor4D;
      expect(() => tf.tidy(() => encoding.scoreBias!(x, x, ctx))).toThrow(pattern);
      x.dispose();
    };
    expectRefusal(ids, 13, /needs 2D grid positions/);
    expectRefusal(square, 13, /must state their height and width/);
    expectRefusal(scattered, 13, /not a 3×4 row-major grid/);
    expectRefusal(
      noSkip,
      12,
      /0 skip token\(s\), but the tables were built with the skip tokens' bucket/,
    );
    expectRefusal(full, 12, /describe 1 skip \+ 3×4 grid tokens.*the call has 12 tokens/);
    tf.dispose([ids.ids, full.rows, full.cols, scattered.cols, noSkip.rows, noSkip.cols]);
    encoding.dispose();
  });

  it('declares every method × mode × target × sharing as a named variant, the default being its own row', () => {
    const variants = irpeDefinition.variants!;
    const names = variants.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    // 4 methods × (3 bias + 7 contextual targets) × 2 sharings, less the default.
    expect(variants.length).toBe(IRPE_METHODS.length * 10 * 2 - 1);
    expect(names).toContain('irpe-cross-bias-qk-unshared');
    expect(names).not.toContain('irpe-product-ctx-k');
    for (const v of variants) createEncoding(v.config).dispose?.();
  });

  it("a ViT with iRPE on keys trains with core's trainer without leaking a tensor", async () => {
    const vit = new ViT(
      {
        imageSize: 8,
        patchSize: 2,
        channels: 1,
        classes: 3,
        modelDim: 8,
        layers: 2,
        heads: 2,
        distillationToken: true,
      },
      [createEncoding({ name: 'learned' }), createEncoding({ name: 'irpe', on: 'qkv' })],
    );
    const images = tf.randomNormal([4, 8, 8, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    const labels = tf.tensor1d([0, 1, 2, 1], 'int32');
    // A first forward pass makes the bucket indices iRPE keeps (freed with the model).
    tf.tidy(() => {
      vit.loss(images, labels);
    });
    const before = tf.memory().numTensors;
    const result = await train({
      parameters: vit.parameters(),
      steps: 3,
      batchAt: () => ({}),
      loss: () => vit.loss(images, labels),
      optimizer: { lr: 1e-2 },
    });
    expect(result.completedSteps).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
    const rpe = vit.parameters()['layers.1.attn.rpe_k.lookup_table_weight']!;
    expect(tf.tidy(() => tf.abs(rpe).max().dataSync()[0]!)).toBeGreaterThan(0);
    tf.dispose([images, labels]);
    vit.dispose();
  });
});
