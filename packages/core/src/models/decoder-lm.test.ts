import { describe, it, expect, beforeAll } from 'vitest';
import { tf } from '../engine/tf.js';
import type { PositionEncoding } from '../encoding/position-encoding.js';
import { relativeDistances, require1D, sequencePositions } from '../positions/positions.js';
import { DecoderLM, type DecoderLMConfig } from './decoder-lm.js';

const VOCAB = 13;
const tiny: DecoderLMConfig = { vocabSize: VOCAB, modelDim: 8, layers: 2, heads: 2, ffnDim: 16 };

/** Test-only absolute encoding: adds sin(position · f) per channel at the input. */
function sinusoidEmbedding(): PositionEncoding {
  return {
    name: 'test-sinusoid',
    config: {},
    supports: ['softmax', 'linear'],
    embed: (x, positions) =>
      tf.tidy(() => {
        const freqs = tf.linspace(0.1, 1.5, x.shape[2]);
        const ids = require1D(positions, 'test-sinusoid').ids;
        return tf.add(x, tf.sin(tf.mul(ids.expandDims(2), freqs))) as tf.Tensor3D;
      }),
  };
}

/**
 * Test-only relative encoding: bias = −0.3·|j − i| from the key and query positions of the call,
 * so a cache whose positions were passed wrongly would change the scores.
 */
function distanceBias(): PositionEncoding {
  return {
    name: 'test-distance',
    config: {},
    supports: ['softmax'],
    scoreBias: (_q, _k, ctx) =>
      tf.tidy(() =>
        tf
          .mul(
            tf.abs(
              relativeDistances(
                require1D(ctx.queryPositions, 'q'),
                require1D(ctx.keyPositions, 'k'),
              ),
            ),
            -0.3,
          )
          .expandDims(1),
      ),
  };
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

const variants: {
  label: string;
  config: Partial<DecoderLMConfig>;
  encodings: () => PositionEncoding[];
}[] = [
  { label: 'pre-LN softmax', config: {}, encodings: () => [sinusoidEmbedding(), distanceBias()] },
  {
    label: 'post-LN softmax',
    config: { norm: 'post' },
    encodings: () => [sinusoidEmbedding(), distanceBias()],
  },
  {
    label: 'pre-LN linear',
    config: { attention: 'linear' },
    encodings: () => [sinusoidEmbedding()],
  },
];

describe('DecoderLM', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const { label, config, encodings } of variants) {
    it(`${label}: changing token t leaves the logits before t unchanged and changes those from t on`, () => {
      const model = new DecoderLM({ ...tiny, ...config }, encodings());
      const tokens = tf.tensor2d([[1, 5, 2, 7, 3, 9, 4]], [1, 7], 'int32');
      const t = 4;
      const changed = tf.tensor2d([[1, 5, 2, 7, 11, 9, 4]], [1, 7], 'int32');
      const a = model.forward(tokens);
      const b = model.forward(changed);
      const slice = (x: tf.Tensor3D, start: number, length: number) =>
        x.slice([0, start, 0], [-1, length, -1]);
      tf.tidy(() => {
        expect(maxAbsDiff(slice(a.logits, 0, t), slice(b.logits, 0, t))).toBeLessThan(1e-6);
        expect(maxAbsDiff(slice(a.logits, t, 1), slice(b.logits, t, 1))).toBeGreaterThan(1e-4);
        expect(maxAbsDiff(slice(a.logits, t + 1, 2), slice(b.logits, t + 1, 2))).toBeGreaterThan(
          1e-6,
        );
      });
      tf.dispose([tokens, changed, a.logits, b.logits, ...a.keySources, ...b.keySources]);
      model.dispose();
    });

    it(`${label}: the memory path equals one pass over [memory; current]`, () => {
      const model = new DecoderLM({ ...tiny, ...config }, encodings());
      const full = tf.tensor2d(
        [
          [3, 1, 4, 1, 5, 9, 2, 6],
          [2, 7, 1, 8, 2, 8, 1, 8],
        ],
        [2, 8],
        'int32',
      );
      const first = full.slice([0, 0], [-1, 4]) as tf.Tensor2D;
      const second = full.slice([0, 4], [-1, 4]) as tf.Tensor2D;
      const memoryPositions = sequencePositions(2, 4, 0);
      const positions = sequencePositions(2, 4, 4);
      const onePass = model.forward(full);
      const cached = model.forward(first, { positions: memoryPositions });
      const continued = model.forward(second, {
        positions,
        memories: cached.keySources,
        memoryPositions,
      });
      expect(continued.logits.shape).toEqual([2, 4, VOCAB]);
      expect(
        maxAbsDiff(continued.logits, onePass.logits.slice([0, 4, 0], [-1, 4, -1])),
      ).toBeLessThan(1e-5);
      tf.dispose([full, first, second, memoryPositions.ids, positions.ids]);
      for (const r of [onePass, cached, continued]) tf.dispose([r.logits, ...r.keySources]);
      model.dispose();
    });
  }

  it('ties the output layer to the token embedding unless asked not to', () => {
    const tied = new DecoderLM(tiny, []);
    const untied = new DecoderLM({ ...tiny, tieEmbeddings: false }, []);
    const tiedNames = Object.keys(tied.parameters());
    const untiedNames = Object.keys(untied.parameters());
    expect(tiedNames).not.toContain('lm_head.weight');
    expect(untiedNames).toContain('lm_head.weight');
    expect(untiedNames.filter((n) => !tiedNames.includes(n))).toEqual(['lm_head.weight']);
    expect(untied.parameters()['lm_head.weight']!.shape).toEqual([8, VOCAB]);

    // Editing the embedding row of a token absent from the input changes only that token's
    // logit column when tied, and nothing when untied.
    const tokens = tf.tensor2d([[0, 1, 2]], [1, 3], 'int32');
    const absent = 7;
    const logitChanges = (model: DecoderLM) => {
      const embedding = model.parameters()['embed.tokens.weight']!;
      const before = model.forward(tokens);
      const bump = tf.tidy(() =>
        tf
          .oneHot(tf.tensor1d([absent], 'int32'), VOCAB)
          .transpose()
          .mul(tf.randomNormal([1, 8], 0, 1, 'float32', 1)),
      );
      embedding.assign(tf.add(embedding, bump));
      const after = model.forward(tokens);
      const change = tf
        .max(tf.abs(tf.sub(after.logits, before.logits)), [0, 1])
        .arraySync() as number[];
      tf.dispose([before.logits, after.logits, ...before.keySources, ...after.keySources, bump]);
      return change;
    };
    const tiedChange = logitChanges(tied);
    expect(tiedChange[absent]).toBeGreaterThan(1e-3);
    expect(Math.max(...tiedChange.filter((_, v) => v !== absent))).toBe(0);
    expect(Math.max(...logitChanges(untied))).toBe(0);
    tokens.dispose();
    tied.dispose();
    untied.dispose();
  });

  it('leaks no tensors over a forward and backward pass (softmax and linear, with a memory)', () => {
    for (const attention of ['softmax', 'linear'] as const) {
      const encodings =
        attention === 'softmax' ? [sinusoidEmbedding(), distanceBias()] : [sinusoidEmbedding()];
      const model = new DecoderLM({ ...tiny, attention, tieEmbeddings: false }, encodings);
      const tokens = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
      const targets = tf.tensor2d([[2, 3, 4, 5]], [1, 4], 'int32');
      const memories = [tf.randomNormal([1, 3, 8]), tf.randomNormal([1, 3, 8])] as tf.Tensor3D[];
      const memoryPositions = sequencePositions(1, 3, 0);
      const positions = sequencePositions(1, 4, 3);
      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(
        () => model.loss(tokens, targets, { memories, memoryPositions, positions }),
        Object.values(model.parameters()),
      );
      tf.dispose([value, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([tokens, targets, ...memories, memoryPositions.ids, positions.ids]);
      model.dispose();
    }
  });
});
