import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { tf } from '../engine/tf.js';
import type { EncodingBuildSpec, PositionEncoding } from '../encoding/position-encoding.js';
import { sequencePositions } from '../positions/positions.js';
import { createEncoding } from '../encoding/registry.js';
import { MODEL_PARAMETER_SCOPES } from '../encoding/parameter-scopes.js';
import '../encodings/index.js';
import { disposeParameters, dropout } from '../nn/layers.js';
import { dropoutSeedOf, TransformerBody, type TransformerBodyOptions } from './transformer-body.js';
import { DecoderLM } from './decoder-lm.js';
import { Encoder } from './encoder.js';
import { ViT } from './vit.js';

const OPTIONS: TransformerBodyOptions = {
  owner: 'Body',
  layers: 3,
  modelDim: 8,
  heads: 2,
  ffnDim: 16,
  norm: 'pre',
  attention: 'softmax',
  dropout: 0.3,
  maxPositions: 32,
  seed: 0,
};

/** Test-only encoding that records its build specs (and works on softmax attention only). */
function specRecorder(built: EncodingBuildSpec[]): PositionEncoding {
  return {
    name: 'test-recorder',
    config: {},
    supports: ['softmax'],
    build: (spec) => built.push(spec),
  };
}

/** A body with its layers, as a model has it once its embeddings are made. */
function builtBody(
  options: TransformerBodyOptions,
  encodings: PositionEncoding[],
): TransformerBody {
  const body = new TransformerBody(options, encodings);
  body.buildLayers();
  return body;
}

function disposeBody(body: TransformerBody): void {
  for (const layer of body.layers) disposeParameters(layer.parameters());
  body.disposeEncodings();
}

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

describe('dropoutSeedOf', () => {
  it('gives no seed (no dropout) outside training or without a call seed', () => {
    expect(dropoutSeedOf({ dropoutSeed: 4 }, 0)).toBeUndefined();
    expect(dropoutSeedOf({ training: false, dropoutSeed: 4 }, 0)).toBeUndefined();
    expect(dropoutSeedOf({ training: true }, 0)).toBeUndefined();
  });

  it('keeps the formula checkpoints were trained with: seed·1009 + slot·7', () => {
    expect(dropoutSeedOf({ training: true, dropoutSeed: 5 }, 2)).toBe(5 * 1009 + 14);
  });

  it('gives every mask of 200 consecutive calls of a 24-layer model its own seed', () => {
    const layers = 24;
    const seen = new Set<number>();
    let masks = 0;
    for (let step = 0; step < 200; step++) {
      const call = { training: true, dropoutSeed: step };
      for (let slot = 0; slot < layers; slot++) {
        const s = dropoutSeedOf(call, slot)!;
        seen.add(s).add(s + 1); // a layer's attention and feed-forward masks
        masks += 2;
      }
      seen.add(dropoutSeedOf(call, layers)!); // the embeddings'
      masks += 1;
    }
    expect(seen.size).toBe(masks);
  });
});

describe('TransformerBody', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("builds its encodings once with the model's sizes and refuses ones the attention kind lacks", () => {
    const built: EncodingBuildSpec[] = [];
    const body = builtBody(OPTIONS, [specRecorder(built)]);
    expect(built).toEqual([
      {
        layers: 3,
        heads: 2,
        headDim: 4,
        modelDim: 8,
        maxPositions: 32,
        seed: 0,
        scopes: MODEL_PARAMETER_SCOPES,
      },
    ]);
    expect(body.layers.map((l) => Object.keys(l.parameters())[0])).toEqual([
      'layers.0.attn.wq.weight',
      'layers.1.attn.wq.weight',
      'layers.2.attn.wq.weight',
    ]);
    disposeBody(body);
    expect(
      () => new TransformerBody({ ...OPTIONS, attention: 'linear' }, [specRecorder([])]),
    ).toThrow(/test-recorder/);
  });

  it('makes its layers once, when asked, after the encodings (and the model its embeddings)', () => {
    const body = new TransformerBody(OPTIONS, []);
    expect(() => body.layers).toThrow('Body: the layers are not built yet (buildLayers)');
    const layers = body.buildLayers();
    expect(body.layers).toBe(layers);
    expect(() => body.buildLayers()).toThrow('Body: the layers are already built');
    disposeBody(body);
  });

  it('leaves the parameter creation order the trainer sums gradients in: encodings, embeddings, layers, head', () => {
    // TF.js names variables by a counter; the trainer's gradient record iterates those names.
    const model = new DecoderLM(
      { modelDim: 8, layers: 2, heads: 2, vocabSize: 5, maxPositions: 8, norm: 'pre' },
      [createEncoding({ name: 'learned' })],
    );
    const created = Object.entries(model.parameters())
      .sort(([, a], [, b]) => Number(a.name) - Number(b.name))
      .map(([name]) => name);
    const first = (prefix: string) => created.findIndex((n) => n.startsWith(prefix));
    expect(first('embed.position_table')).toBe(0);
    expect(first('embed.tokens')).toBe(1);
    expect(first('layers.0.')).toBe(2);
    expect(created.at(-1)).toMatch(/^final_norm\./);
    model.dispose();
  });

  it('runs the layers in order, each with its own dropout seed, and collects their outputs', () => {
    const body = builtBody(OPTIONS, [createEncoding({ name: 'alibi' })]);
    const x = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 1) as tf.Tensor3D;
    const positions = sequencePositions(2, 5);
    const call = { positions, causal: true, training: true, dropoutSeed: 9, returnProbs: true };
    tf.tidy(() => {
      const got = body.run(x, call);
      let h = x;
      body.layers.forEach((layer, i) => {
        const r = layer.apply(h, {
          ...call,
          encodings: body.encodings,
          dropoutSeed: dropoutSeedOf(call, i),
        });
        expect(maxAbsDiff(got.keySources[i]!, r.keySource)).toBe(0);
        expect(maxAbsDiff(got.probs[i]!, r.probs!)).toBe(0);
        h = r.output;
      });
      expect(maxAbsDiff(got.output, h)).toBe(0);
      expect(got.keySources).toHaveLength(3);
      // Dropout acted: the same call outside training gives another output.
      const evaluation = body.run(x, { ...call, training: false, returnProbs: false });
      expect(maxAbsDiff(evaluation.output, got.output)).toBeGreaterThan(1e-3);
      expect(evaluation.probs).toEqual([]);
    });
    tf.dispose([x, positions.ids]);
    disposeBody(body);
  });

  it('drops out the embeddings at the layers’ rate with the seed of slot L, only in training', () => {
    const body = builtBody(OPTIONS, []);
    const x = tf.ones([1, 4, 8]) as tf.Tensor3D;
    const call = { training: true, dropoutSeed: 2 };
    expect(body.dropoutEmbeddings(x, { dropoutSeed: 2 })).toBe(x);
    const dropped = body.dropoutEmbeddings(x, call);
    const want = dropout(x, 0.3, dropoutSeedOf(call, 3));
    expect(maxAbsDiff(dropped, want)).toBe(0);
    expect(maxAbsDiff(dropped, x)).toBeGreaterThan(0);
    tf.dispose([x, dropped, want]);
    disposeBody(body);
  });

  it('rejects probabilities with linear attention and a memory list of the wrong length', () => {
    const linear = builtBody({ ...OPTIONS, attention: 'linear' }, []);
    const softmax = builtBody(OPTIONS, []);
    const x = tf.zeros([1, 2, 8]) as tf.Tensor3D;
    const positions = sequencePositions(1, 2);
    expect(() => linear.run(x, { positions, causal: false, returnProbs: true })).toThrow(
      'Body: returnProbs needs softmax attention; linear attention forms no [N,N] probabilities',
    );
    expect(() => softmax.run(x, { positions, causal: true, memories: [x] })).toThrow(
      'Body: memories has 1 entries, expected one per layer (3)',
    );
    tf.dispose([x, positions.ids]);
    disposeBody(linear);
    disposeBody(softmax);
  });

  it("is what DecoderLM, Encoder and ViT run their layers through (the model's own layers)", () => {
    const run = vi.spyOn(TransformerBody.prototype, 'run');
    const sizes = { modelDim: 8, layers: 2, heads: 2, ffnDim: 16 };
    const tokens = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
    const images = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    const lm = new DecoderLM({ ...sizes, vocabSize: 5 }, []);
    const encoder = new Encoder({ ...sizes, vocabSize: 5 }, []);
    const vit = new ViT({ ...sizes, imageSize: 4, patchSize: 2, classes: 2 }, []);
    tf.tidy(() => {
      lm.forward(tokens);
      encoder.forward(tokens);
      vit.forward(images);
    });
    expect(run).toHaveBeenCalledTimes(3);
    run.mock.contexts.forEach((body, i) =>
      expect((body as TransformerBody).layers).toBe([lm, encoder, vit][i]!.layers),
    );
    tf.dispose([tokens, images]);
    for (const model of [lm, encoder, vit]) model.dispose();
  });
});
