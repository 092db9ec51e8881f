import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeTensorEntry,
  readSafetensorsFile,
  readSafetensorsHeader,
  tf,
  type TensorEntry,
} from '@posenc/core';
import '../index.js';
import { maxAbsDiff, onCpuWithoutLeaks } from '@posenc/core/testing';
import { randomizeParameters } from '../testing/randomize.js';
import {
  assignHFRoFormerWeights,
  fromHFConfig,
  hfPositionTable,
  hfRoFormerEntries,
  loadHFRoFormer,
  hfRoFormerSafetensors,
  toHFConfig,
} from './hf-weights.js';
import { roformerFromHFConfig, saveHFConfig, saveHFRoFormer } from './hf-files.js';
import { RoFormer, type RoFormerOptions } from './model.js';

onCpuWithoutLeaks();
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'posenc-roformer-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const TINY: RoFormerOptions = {
  vocabSize: 11,
  hiddenSize: 8,
  embeddingSize: 6,
  layers: 2,
  heads: 2,
  intermediateSize: 12,
  maxPositionEmbeddings: 16,
  hiddenDropout: 0,
};

function outputs(model: RoFormer): Float32Array {
  return tf.tidy(() => {
    const tokens = tf.tensor2d([[1, 4, 9, 2, 7]], [1, 5], 'int32');
    return model.mlmLogits(model.forward(tokens).hidden).dataSync() as Float32Array;
  });
}

function parameterValues(model: RoFormer): Record<string, Float32Array> {
  return Object.fromEntries(
    Object.entries(model.parameters()).map(([k, v]) => [k, v.dataSync() as Float32Array]),
  );
}

describe('HF RoFormer weights', () => {
  it('a tiny RoFormer saved in HF names loads back into an identical model', async () => {
    const original = new RoFormer(TINY);
    randomizeParameters(original.parameters(), 1);
    const path = join(dir, 'model.safetensors');
    await saveHFRoFormer(original, path);

    const header = await readSafetensorsHeader(path);
    expect(header.metadata).toEqual({ format: 'pt' });
    const shapes = Object.fromEntries(header.tensors.map((t) => [t.name, t.shape]));
    expect(shapes).toMatchObject({
      'roformer.embeddings.word_embeddings.weight': [11, 6],
      'roformer.embeddings.token_type_embeddings.weight': [2, 6],
      'roformer.embeddings.LayerNorm.weight': [6],
      'roformer.embeddings_project.weight': [8, 6],
      'roformer.encoder.embed_positions.weight': [16, 4],
      'roformer.encoder.layer.0.attention.self.query.weight': [8, 8],
      'roformer.encoder.layer.0.attention.self.key.bias': [8],
      'roformer.encoder.layer.1.attention.self.value.weight': [8, 8],
      'roformer.encoder.layer.1.attention.output.dense.weight': [8, 8],
      'roformer.encoder.layer.1.attention.output.LayerNorm.bias': [8],
      'roformer.encoder.layer.0.intermediate.dense.weight': [12, 8],
      'roformer.encoder.layer.0.output.dense.weight': [8, 12],
      'roformer.encoder.layer.0.output.LayerNorm.weight': [8],
      'cls.predictions.transform.dense.weight': [6, 8],
      'cls.predictions.transform.LayerNorm.bias': [6],
      'cls.predictions.bias': [11],
    });
    // 6 embedding (with the projection) + 16 per layer × 2 + 5 head + the position table.
    expect(header.tensors.length).toBe(6 + 16 * 2 + 5 + 1);

    const loaded = new RoFormer({ ...TINY, seed: 99 });
    expect(maxAbsDiff(outputs(loaded), outputs(original))).toBeGreaterThan(1e-3);
    const report = await loadHFRoFormer(loaded, path);
    expect(report.skipped).toEqual(['roformer.encoder.embed_positions.weight']);
    expect(maxAbsDiff(outputs(loaded), outputs(original))).toBe(0);
    const a = parameterValues(original);
    const b = parameterValues(loaded);
    for (const name of Object.keys(a)) expect(maxAbsDiff(a[name]!, b[name]!)).toBe(0);
    original.dispose();
    loaded.dispose();
  });

  it('loads the same weights from bytes, a Response and a file URL as from the path', async () => {
    const original = new RoFormer(TINY);
    randomizeParameters(original.parameters(), 2);
    const path = join(dir, 'sources.safetensors');
    await saveHFRoFormer(original, path);
    const bytes = hfRoFormerSafetensors(original);
    const sources = [bytes, bytes.slice().buffer, new Response(bytes), pathToFileURL(path)];
    for (const source of sources) {
      const loaded = new RoFormer({ ...TINY, seed: 7 });
      await loadHFRoFormer(loaded, source);
      expect(maxAbsDiff(outputs(loaded), outputs(original))).toBe(0);
      loaded.dispose();
    }
    original.dispose();
  });

  it('writes HF’s position table (sin half | cos half of the same angles)', () => {
    const table = hfPositionTable(5, 4);
    // Row 3: angles 3·10000^0 and 3·10000^(−1/2).
    expect(Array.from(table.subarray(12, 16))).toEqual(
      [Math.sin(3), Math.sin(3 / 100), Math.cos(3), Math.cos(3 / 100)].map(Math.fround),
    );
  });

  it('an encoder-only model uses unprefixed names and refuses a head it does not have', async () => {
    const encoder = new RoFormer({ ...TINY, mlmHead: false });
    const keys = Object.keys(hfRoFormerEntries(encoder));
    expect(keys).toContain('encoder.layer.0.attention.self.query.weight');
    expect(keys.some((k) => k.startsWith('roformer.') || k.startsWith('cls.'))).toBe(false);

    const withHead = new RoFormer(TINY);
    const entries = new Map(Object.entries(hfRoFormerEntries(withHead)));
    expect(() => assignHFRoFormerWeights(encoder, entries)).toThrow(
      /5 key\(s\) map to no parameter of this model, e.g. cls.predictions/,
    );
    const report = assignHFRoFormerWeights(encoder, entries, { ignoreUnexpected: true });
    expect(report.skipped).toContain('cls.predictions.bias');
    encoder.dispose();
    withHead.dispose();
  });

  it('checks everything before changing the model', () => {
    const source = new RoFormer(TINY);
    randomizeParameters(source.parameters(), 2);
    const target = new RoFormer({ ...TINY, seed: 5 });
    const before = outputs(target);
    const entries = () => new Map(Object.entries(hfRoFormerEntries(source)));
    const expectUnchanged = () => expect(maxAbsDiff(outputs(target), before)).toBe(0);

    const missing = entries();
    missing.delete('roformer.encoder.layer.1.output.dense.bias');
    expect(() => assignHFRoFormerWeights(target, missing)).toThrow(
      /1 key\(s\) missing for this config \(layers 2, mlmHead true\), e.g. roformer.encoder.layer.1.output.dense.bias/,
    );
    const wrongShape = entries();
    wrongShape.set(
      'roformer.encoder.layer.0.attention.self.query.weight',
      f32(new Float32Array(8 * 6), [8, 6]),
    );
    expect(() => assignHFRoFormerWeights(target, wrongShape)).toThrow(
      /roformer.encoder.layer.0.attention.self.query.weight has shape \[8,6\], expected \[8,8\]/,
    );
    const badTable = entries();
    const table = hfPositionTable(16, 4);
    table[4 * 3 + 1] += 0.01;
    badTable.set('roformer.encoder.embed_positions.weight', f32(table, [16, 4]));
    expect(() => assignHFRoFormerWeights(target, badTable)).toThrow(
      /embed_positions.weight\[3\]\[1\] = .* differs from the sinusoid formula/,
    );
    expectUnchanged();
    // A checkpoint without the (optional) table still loads.
    const noTable = entries();
    noTable.delete('roformer.encoder.embed_positions.weight');
    assignHFRoFormerWeights(target, noTable);
    expect(maxAbsDiff(outputs(target), outputs(source))).toBe(0);
    source.dispose();
    target.dispose();
  });

  it('reads half-precision checkpoints (values rounded to float16)', async () => {
    const source = new RoFormer(TINY);
    randomizeParameters(source.parameters(), 3);
    const half = Object.fromEntries(
      Object.entries(hfRoFormerEntries(source)).map(([k, e]) => [k, toF16(e)]),
    );
    const path = join(dir, 'half.safetensors');
    const { writeSafetensorsFile } = await import('@posenc/core');
    await writeSafetensorsFile(path, half, { format: 'pt' });
    const target = new RoFormer(TINY);
    await loadHFRoFormer(target, path);
    const q = target.parameters()['layers.0.attn.wq.weight']!.dataSync();
    const want = source.parameters()['layers.0.attn.wq.weight']!.dataSync();
    expect(maxAbsDiff(q, want)).toBeLessThan(2e-3); // float16 keeps ~3 decimal digits at |x| ≈ 1
    expect(maxAbsDiff(q, want)).toBeGreaterThan(0);
    const file = await readSafetensorsFile(path);
    expect(file.tensors.get('cls.predictions.bias')!.dtype).toBe('F16');
    source.dispose();
    target.dispose();
  });

  it('maps HF config.json both ways', async () => {
    const model = new RoFormer({ ...TINY, rotaryValue: true, hiddenAct: 'gelu_new' });
    const hf = toHFConfig(model.config);
    expect(hf).toMatchObject({
      model_type: 'roformer',
      architectures: ['RoFormerForMaskedLM'],
      vocab_size: 11,
      embedding_size: 6,
      hidden_size: 8,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      intermediate_size: 12,
      hidden_act: 'gelu_new',
      max_position_embeddings: 16,
      rotary_value: true,
    });
    const path = join(dir, 'config.json');
    await saveHFConfig(model.config, path);
    const rebuilt = await roformerFromHFConfig(path);
    expect(rebuilt.config).toEqual(model.config);
    expect(() => fromHFConfig({ vocab_size: 3 })).toThrow(
      /field 'hidden_size' = undefined is not allowed; expected a number/,
    );
    model.dispose();
    rebuilt.dispose();
  });
});

function f32(values: Float32Array, shape: number[]): TensorEntry {
  return encodeTensorEntry(values, shape, 'F32');
}

function toF16(e: TensorEntry): TensorEntry {
  const values = new Float32Array(
    e.data.buffer.slice(e.data.byteOffset, e.data.byteOffset + e.data.byteLength),
  );
  return encodeTensorEntry(values, e.shape, 'F16');
}
