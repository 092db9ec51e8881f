/**
 * The LRA classifier starts from LRA's initialisation (N(0, 1) token embeddings, LeCun-normal
 * head), and different sparse images get different logits, where with core's 0.02 they got nearly
 * the same ones and training on Pathfinder left every ReLU of the head dead.
 */
import { createEncoding, disposePositions, initEngine, sequencePositions, tf } from '@posenc/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { LRA_METHODS } from '../methods/rows.js';
import {
  lecunStd,
  LRA_EMBEDDING_STD,
  LraClassifier,
  type LraModelOptions,
} from './lra-classifier.js';

beforeAll(async () => {
  await initEngine({ engine: 'cpu', log: null });
});

const OPTIONS: LraModelOptions = {
  vocabSize: 257,
  classes: 2,
  maxLength: 64,
  modelDim: 64,
  heads: 4,
  layers: 1,
  ffnDim: 64,
  mlpDim: 64,
  pooling: 'mean',
  dual: false,
  attention: 'softmax',
  featureMap: 'relu+eps',
  randomFeatures: 16,
  dropout: 0,
  seed: 3,
};

// A truncated normal at ±2σ has std 0.880σ (TF.js's truncatedNormal, as flax's LeCun-normal).
const TRUNCATED = 0.8796;

function std(t: tf.Tensor): number {
  return tf.tidy(() => Math.sqrt(tf.moments(t).variance.dataSync()[0]!));
}

describe('LraClassifier initialisation', () => {
  it('embeds tokens at LRA std 1 and starts the head LeCun-normal', () => {
    const model = new LraClassifier(OPTIONS, []);
    try {
      const p = model.parameters();
      expect(std(p['embed.tokens.weight']!)).toBeCloseTo(LRA_EMBEDDING_STD * TRUNCATED, 1);
      expect(std(p['head.dense0.weight']!) / (lecunStd(64) * TRUNCATED)).toBeCloseTo(1, 1);
      expect(std(p['head.dense1.weight']!) / (lecunStd(64) * TRUNCATED)).toBeCloseTo(1, 1);
    } finally {
      model.dispose();
    }
  });

  it("gives different images different logits (core's 0.02: a spread of 8e-4)", () => {
    const model = new LraClassifier(OPTIONS, []);
    const random = tf.randomUniform([16, 64], 0, 1, 'float32', 7);
    // Sparse two-valued "images" (ink 256 on background 1), as Pathfinder's tokens are.
    const ids = tf.tidy(() => tf.where(tf.less(random, 0.2), 256, 1).toInt()) as tf.Tensor2D;
    try {
      const spread = tf.tidy(() => {
        const logits = model.logits({ ids });
        return tf.moments(logits, 0).variance.sqrt().mean().dataSync()[0]!;
      });
      expect(spread).toBeGreaterThan(1e-2);
    } finally {
      tf.dispose([random, ids]);
      model.dispose();
    }
  });

  it("adds LRA's unit sinusoids on the sinusoidal rows", () => {
    const rows = LRA_METHODS.filter((m) =>
      m.encodings({} as never).some((e) => e.name === 'sinusoidal'),
    );
    expect(rows.length).toBeGreaterThan(0);
    const positions = sequencePositions(1, 32);
    try {
      for (const row of rows)
        for (const e of row.encodings({} as never)) {
          if (e.name !== 'sinusoidal') continue;
          const encoding = createEncoding(e);
          // What the encoding adds to zeros is its table: sin and cos of amplitude 1, as LRA's.
          const peak = tf.tidy(
            () =>
              tf
                .abs(encoding.embed!(tf.zeros([1, 32, 64]) as tf.Tensor3D, positions))
                .max()
                .dataSync()[0]!,
          );
          expect(peak).toBeCloseTo(1, 3);
        }
    } finally {
      disposePositions(positions);
    }
  });
});
