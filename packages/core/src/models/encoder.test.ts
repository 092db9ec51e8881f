import { describe, it, expect, beforeAll } from 'vitest';
import { tf } from '../engine/tf.js';
import type { PositionEncoding } from '../encoding/position-encoding.js';
import { relativeDistances, require1D } from '../positions/positions.js';
import { collectParameters, type Parameters } from '../nn/layers.js';
import { ClassificationHead, Encoder, SpanHead, type EncoderConfig } from './encoder.js';

const DIM = 8;
const VOCAB = 11;
const tiny: EncoderConfig = {
  vocabSize: VOCAB,
  modelDim: DIM,
  layers: 2,
  heads: 2,
  ffnDim: 16,
  typeVocabSize: 2,
};

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

/** Test-only relative encoding with a learnable slope: bias = −slope·|j − i| (ALiBi-like). */
function learnedDistanceBias(): PositionEncoding {
  let slope: tf.Variable | undefined;
  return {
    name: 'test-distance',
    config: {},
    supports: ['softmax'],
    build: () => {
      slope = tf.variable(tf.scalar(0.3), true);
    },
    parameters: () => ({ 'test.slope': slope! }),
    dispose: () => slope?.dispose(),
    scoreBias: (_q, _k, ctx) =>
      tf.tidy(() => {
        const d = relativeDistances(
          require1D(ctx.queryPositions, 'q'),
          require1D(ctx.keyPositions, 'k'),
        );
        return tf.mul(tf.abs(d), tf.neg(slope!)).expandDims(1);
      }),
  };
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

/** Runs f under variableGrads and checks every named parameter got a finite, non-zero gradient. */
function expectGradientForEveryParameter(params: Parameters, f: () => tf.Scalar): void {
  const { value, grads } = tf.variableGrads(f, Object.values(params));
  for (const [name, v] of Object.entries(params)) {
    const g = grads[v.name];
    expect(g, `gradient of ${name}`).toBeDefined();
    const values = g!.dataSync();
    expect(values.every(Number.isFinite), `finite gradient of ${name}`).toBe(true);
    expect(
      values.some((x) => x !== 0),
      `non-zero gradient of ${name}`,
    ).toBe(true);
  }
  tf.dispose([value, ...Object.values(grads)]);
}

describe('Encoder', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('gives hidden states [B,N,C], probabilities per layer, and head outputs of the right shapes', () => {
    const encoder = new Encoder(tiny, [sinusoidEmbedding()]);
    const tokens = tf.tensor2d(
      [
        [1, 2, 3, 4, 5],
        [6, 7, 8, 0, 0],
      ],
      [2, 5],
      'int32',
    );
    const attentionMask = tf.tensor2d([
      [1, 1, 1, 1, 1],
      [1, 1, 1, 0, 0],
    ]);
    const { hidden, probs } = encoder.forward(tokens, { attentionMask, returnProbs: true });
    expect(hidden.shape).toEqual([2, 5, DIM]);
    expect(probs).toHaveLength(2);
    for (const p of probs!) {
      expect(p.shape).toEqual([2, 2, 5, 5]);
      // Rows are distributions, and padding keys (row 1, keys 3 and 4) receive nothing.
      expect(maxAbsDiff(tf.sum(p, -1), tf.ones([2, 2, 5]))).toBeLessThan(1e-5);
      expect(tf.max(p.slice([1, 0, 0, 3], [1, -1, -1, 2])).dataSync()[0]).toBeLessThan(1e-12);
    }
    const classifier = new ClassificationHead({ modelDim: DIM, classes: 3 });
    expect(classifier.apply(hidden, { attentionMask }).shape).toEqual([2, 3]);
    const span = new SpanHead({ modelDim: DIM });
    const { start, end } = span.apply(hidden, { attentionMask });
    expect(start.shape).toEqual([2, 5]);
    expect(end.shape).toEqual([2, 5]);
    tf.dispose([tokens, attentionMask, hidden, ...probs!, start, end]);
    [encoder, classifier, span].forEach((m) => m.dispose());
  });

  it('names parameters stably: an embedding norm for post-LN (BERT), a final norm for pre-LN', () => {
    const post = new Encoder(tiny, [learnedDistanceBias()]);
    const postNames = Object.keys(post.parameters());
    expect(postNames).toEqual(
      expect.arrayContaining([
        'embed.tokens.weight',
        'embed.types.weight',
        'embed.norm.weight',
        'layers.1.attn.wq.weight',
        'test.slope',
      ]),
    );
    expect(postNames.some((n) => n.startsWith('final_norm'))).toBe(false);
    const pre = new Encoder({ ...tiny, norm: 'pre', typeVocabSize: 0 }, []);
    const preNames = Object.keys(pre.parameters());
    expect(preNames).toContain('final_norm.weight');
    expect(preNames.some((n) => n.startsWith('embed.norm') || n.startsWith('embed.types'))).toBe(
      false,
    );
    post.dispose();
    pre.dispose();
  });

  const variants: {
    label: string;
    config: Partial<EncoderConfig>;
    encodings: () => PositionEncoding[];
  }[] = [
    {
      label: 'post-LN softmax',
      config: {},
      encodings: () => [sinusoidEmbedding(), learnedDistanceBias()],
    },
    {
      label: 'pre-LN softmax',
      config: { norm: 'pre' },
      encodings: () => [sinusoidEmbedding(), learnedDistanceBias()],
    },
    {
      label: 'post-LN linear',
      config: { attention: 'linear' },
      encodings: () => [sinusoidEmbedding()],
    },
  ];

  for (const { label, config, encodings } of variants) {
    it(`${label}: padding tokens with mask 0 leave the real tokens' outputs unchanged`, () => {
      const encoder = new Encoder({ ...tiny, ...config }, encodings());
      const tokens = tf.tensor2d([[3, 1, 4, 1, 5]], [1, 5], 'int32');
      const padded = tf.tensor2d([[3, 1, 4, 1, 5, 9, 2, 6]], [1, 8], 'int32');
      const mask = tf.ones([1, 5]) as tf.Tensor2D;
      const paddedMask = tf.tensor2d([[1, 1, 1, 1, 1, 0, 0, 0]]);
      const plain = encoder.forward(tokens, { attentionMask: mask }).hidden;
      const withPadding = encoder.forward(padded, { attentionMask: paddedMask }).hidden;
      expect(maxAbsDiff(plain, withPadding.slice([0, 0, 0], [-1, 5, -1]))).toBeLessThan(1e-5);

      // The heads ignore padding too: mean pooling and the span softmax see only real tokens.
      const classifier = new ClassificationHead({ modelDim: DIM, classes: 3, pooling: 'mean' });
      const span = new SpanHead({ modelDim: DIM });
      expect(
        maxAbsDiff(
          classifier.apply(plain, { attentionMask: mask }),
          classifier.apply(withPadding, { attentionMask: paddedMask }),
        ),
      ).toBeLessThan(1e-5);
      const starts = tf.tensor1d([1], 'int32');
      const ends = tf.tensor1d([3], 'int32');
      const spanLoss = span.loss(plain, starts, ends, { attentionMask: mask });
      const paddedSpanLoss = span.loss(withPadding, starts, ends, { attentionMask: paddedMask });
      expect(Math.abs(spanLoss.dataSync()[0]! - paddedSpanLoss.dataSync()[0]!)).toBeLessThan(1e-5);
      tf.dispose([
        tokens,
        padded,
        mask,
        paddedMask,
        plain,
        withPadding,
        starts,
        ends,
        spanLoss,
        paddedSpanLoss,
      ]);
      [encoder, classifier, span].forEach((m) => m.dispose());
    });
  }

  for (const attention of ['softmax', 'linear'] as const) {
    it(`${attention}: without position encodings it is permutation-equivariant; with one it is not`, () => {
      const tokens = tf.tensor2d(
        [
          [2, 7, 1, 8, 2, 8],
          [1, 4, 1, 4, 2, 1],
        ],
        [2, 6],
        'int32',
      );
      const mask = tf.tensor2d([
        [1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 0, 0],
      ]);
      const permutation = tf.tensor1d([4, 0, 5, 2, 1, 3], 'int32');
      const permute = <T extends tf.Tensor>(t: T) => tf.gather(t, permutation, 1) as T;
      const outputsPermutedBoth = (encoder: Encoder) => {
        const hidden = encoder.forward(tokens, { attentionMask: mask }).hidden;
        const fromPermuted = encoder.forward(permute(tokens), {
          attentionMask: permute(mask),
        }).hidden;
        return maxAbsDiff(permute(hidden), fromPermuted);
      };
      const blind = new Encoder({ ...tiny, attention }, []);
      const positional = new Encoder({ ...tiny, attention }, [sinusoidEmbedding()]);
      tf.tidy(() => {
        expect(outputsPermutedBoth(blind)).toBeLessThan(1e-5);
        expect(outputsPermutedBoth(positional)).toBeGreaterThan(1e-3);
      });
      tf.dispose([tokens, mask, permutation]);
      blind.dispose();
      positional.dispose();
    });
  }

  it('token types change the output; without a type table they are refused', () => {
    const encoder = new Encoder(tiny, []);
    const tokens = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
    const types = tf.tensor2d([[0, 0, 1, 1]], [1, 4], 'int32');
    const defaultTypes = encoder.forward(tokens).hidden;
    const explicitZeros = encoder.forward(tokens, {
      tokenTypes: tf.zerosLike(types) as tf.Tensor2D,
    }).hidden;
    const segmented = encoder.forward(tokens, { tokenTypes: types }).hidden;
    expect(maxAbsDiff(defaultTypes, explicitZeros)).toBe(0);
    expect(maxAbsDiff(defaultTypes, segmented)).toBeGreaterThan(1e-3);
    const untyped = new Encoder({ ...tiny, typeVocabSize: 0 }, []);
    expect(() => untyped.forward(tokens, { tokenTypes: types })).toThrow(/typeVocabSize = 0/);
    tf.dispose([tokens, types, defaultTypes, explicitZeros, segmented]);
    encoder.dispose();
    untyped.dispose();
  });

  it('classification: gradients reach every parameter, including the encodings and the head', () => {
    const encoder = new Encoder({ ...tiny, dropout: 0.1 }, [
      sinusoidEmbedding(),
      learnedDistanceBias(),
    ]);
    const head = new ClassificationHead({ modelDim: DIM, classes: 3, dropout: 0.1 });
    const tokens = tf.tensor2d(
      [
        [1, 2, 3, 4],
        [5, 6, 7, 0],
      ],
      [2, 4],
      'int32',
    );
    const tokenTypes = tf.tensor2d(
      [
        [0, 0, 1, 1],
        [0, 1, 1, 0],
      ],
      [2, 4],
      'int32',
    );
    const attentionMask = tf.tensor2d([
      [1, 1, 1, 1],
      [1, 1, 1, 0],
    ]);
    const labels = tf.tensor1d([0, 2], 'int32');
    const call = { attentionMask, training: true, dropoutSeed: 3 };
    expectGradientForEveryParameter(collectParameters(encoder, head), () =>
      head.loss(encoder.forward(tokens, { ...call, tokenTypes }).hidden, labels, call),
    );
    tf.dispose([tokens, tokenTypes, attentionMask, labels]);
    encoder.dispose();
    head.dispose();
  });

  it('spans: gradients reach every parameter of a pre-LN encoder and the span head', () => {
    const encoder = new Encoder({ ...tiny, norm: 'pre' }, [learnedDistanceBias()]);
    const head = new SpanHead({ modelDim: DIM });
    const tokens = tf.tensor2d([[1, 2, 3, 4, 5]], [1, 5], 'int32');
    const starts = tf.tensor1d([1], 'int32');
    const ends = tf.tensor1d([3], 'int32');
    expectGradientForEveryParameter(collectParameters(encoder, head), () =>
      head.loss(encoder.forward(tokens).hidden, starts, ends),
    );
    tf.dispose([tokens, starts, ends]);
    encoder.dispose();
    head.dispose();
  });

  it('a few steps of plain SGD reduce the classification loss on a fixed batch', () => {
    const encoder = new Encoder(tiny, [sinusoidEmbedding()]);
    const head = new ClassificationHead({ modelDim: DIM, classes: 2 });
    const tokens = tf.tensor2d(
      [
        [1, 2, 3, 4],
        [4, 3, 2, 1],
        [5, 6, 7, 8],
        [8, 7, 6, 5],
      ],
      [4, 4],
      'int32',
    );
    const labels = tf.tensor1d([0, 1, 0, 1], 'int32');
    const lossOf = () => head.loss(encoder.forward(tokens).hidden, labels);
    const lossValue = () => tf.tidy(() => lossOf().dataSync()[0]!);
    const initial = lossValue();
    // BERT's small initialisation (std 0.02) makes the first steps slow; a large rate is still stable here.
    const optimizer = tf.train.sgd(0.2);
    const variables = Object.values(collectParameters(encoder, head));
    for (let step = 0; step < 8; step++) optimizer.minimize(lossOf, false, variables);
    expect(lossValue()).toBeLessThan(0.98 * initial);
    optimizer.dispose();
    tf.dispose([tokens, labels]);
    encoder.dispose();
    head.dispose();
  });

  it('leaks no tensors over a forward and backward pass (softmax and linear)', () => {
    for (const attention of ['softmax', 'linear'] as const) {
      const encodings =
        attention === 'softmax'
          ? [sinusoidEmbedding(), learnedDistanceBias()]
          : [sinusoidEmbedding()];
      const encoder = new Encoder({ ...tiny, attention }, encodings);
      const head = new SpanHead({ modelDim: DIM });
      const tokens = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
      const attentionMask = tf.tensor2d([[1, 1, 1, 0]]);
      const starts = tf.tensor1d([0], 'int32');
      const ends = tf.tensor1d([2], 'int32');
      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(
        () =>
          head.loss(encoder.forward(tokens, { attentionMask }).hidden, starts, ends, {
            attentionMask,
          }),
        Object.values(collectParameters(encoder, head)),
      );
      tf.dispose([value, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([tokens, attentionMask, starts, ends]);
      encoder.dispose();
      head.dispose();
    }
  });

  it('rejects bad configs and calls with messages naming the field', () => {
    expect(() => new Encoder({ ...tiny, heads: 3 }, [])).toThrow(/'heads' = 3.*modelDim = 8/);
    expect(() => new Encoder({ ...tiny, norm: 'middle' as 'pre' }, [])).toThrow(
      /'norm' = "middle"/,
    );
    expect(() => new Encoder({ ...tiny, vocabSize: 0 }, [])).toThrow(/'vocabSize' = 0/);
    expect(() => new Encoder({ ...tiny, typeVocabSize: -1 }, [])).toThrow(/'typeVocabSize' = -1/);
    expect(() => new Encoder({ ...tiny, causal: true } as EncoderConfig, [])).toThrow(
      /'causal'.*unknown field/,
    );
    expect(() => new Encoder({ ...tiny, attention: 'linear' }, [learnedDistanceBias()])).toThrow(
      /'test-distance' does not support linear attention/,
    );
    expect(() => new ClassificationHead({ modelDim: DIM, classes: 1 })).toThrow(/'classes' = 1/);
    expect(
      () => new ClassificationHead({ modelDim: DIM, classes: 2, pooling: 'max' as 'mean' }),
    ).toThrow(/'pooling' = "max"/);
    expect(() => new SpanHead({} as { modelDim: number })).toThrow(/'modelDim'.*required/);

    const encoder = new Encoder(tiny, []);
    const linear = new Encoder({ ...tiny, attention: 'linear' }, []);
    const tokens = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
    const shortMask = tf.tensor2d([[1, 1]]);
    expect(() => encoder.forward(tokens, { attentionMask: shortMask })).toThrow(
      /attentionMask has shape \[1,2\], expected \[1, 3\]/,
    );
    expect(() => linear.forward(tokens, { returnProbs: true })).toThrow(
      /returnProbs needs softmax attention/,
    );
    tf.dispose([tokens, shortMask]);
    encoder.dispose();
    linear.dispose();
  });
});
