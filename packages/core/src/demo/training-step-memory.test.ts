/**
 * Acceptance: one training step of the real decoder LM leaves `tf.memory().numTensors`
 * unchanged, for every reference encoding, on the engine the demo uses.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { initEngine } from '../engine/select.js';
import { createEncoding } from '../encoding/registry.js';
import { REFERENCE_ENCODING_NAMES } from '../encodings/index.js';
import { DecoderLM } from '../models/decoder-lm.js';
import { byteTokens, randomWindows } from '../data/language-modelling.js';
import { Trainer } from '../training/trainer.js';

beforeAll(async () => {
  await initEngine({ log: null });
});

describe('a training step leaks no tensors', () => {
  const tokens = byteTokens(
    'Fellow-Citizens of the Senate and House of Representatives. '.repeat(20),
  );
  for (const name of REFERENCE_ENCODING_NAMES) {
    it(name, async () => {
      const before = tf.memory().numTensors;
      const model = new DecoderLM(
        { vocabSize: 256, modelDim: 32, layers: 2, heads: 4, maxPositions: 16, dropout: 0.1 },
        [createEncoding({ name })],
      );
      const parameters = model.parameters();
      const trainer = await Trainer.create({
        parameters,
        steps: 4,
        batchAt: (step) => randomWindows(tokens, 4, 16, 0, step),
        loss: (b, ctx) =>
          model.loss(b.inputs, b.targets, { training: true, dropoutSeed: ctx.seed }),
        clipNorm: 1,
      });
      await trainer.runStep(); // creates the optimizer's two moments per parameter
      const afterFirst = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        await trainer.runStep();
        expect(tf.memory().numTensors).toBe(afterFirst);
      }
      trainer.dispose();
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
