/**
 * Small models for tests. Freshly initialised weights (std 0.02) give nearly uniform attention
 * and logits, under which a wrong position or a wrong mask changes outputs by less than any
 * tolerance; `sharpen` redraws every weight at a larger scale so such mistakes show.
 */
import { createEncoding, DecoderLM, mulberry32, tf, type EncodingConfig } from '@posenc/core';
import '../index.js';

export interface TestModelOptions {
  layers?: number;
  modelDim?: number;
  heads?: number;
  vocabSize?: number;
  maxPositions?: number;
  seed?: number;
}

export function testModel(encodings: EncodingConfig[], options: TestModelOptions = {}): DecoderLM {
  const {
    layers = 2,
    modelDim = 32,
    heads = 4,
    vocabSize = 50,
    maxPositions = 256,
    seed = 3,
  } = options;
  return new DecoderLM(
    { vocabSize, modelDim, layers, heads, maxPositions, seed },
    encodings.map((e) => createEncoding(e)),
  );
}

/** Redraws every parameter from N(0, std²) (gains around 1), deterministically from `seed`. */
export function sharpen(model: DecoderLM, seed: number, std = 0.3): void {
  const next = mulberry32(seed);
  const normal = (): number => {
    const u = Math.max(next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  };
  for (const [name, variable] of Object.entries(model.parameters())) {
    const size = variable.size;
    const gain = /norm.*(weight|gamma|scale)/.test(name) ? 1 : 0;
    const values = Float32Array.from({ length: size }, () => gain + std * normal());
    tf.tidy(() => variable.assign(tf.tensor(values, variable.shape, 'float32')));
  }
}

/** Random token ids in [0, vocab) from `seed`. */
export function randomTokens(count: number, vocab: number, seed: number): Int32Array {
  const next = mulberry32(seed);
  return Int32Array.from({ length: count }, () => Math.floor(next() * vocab));
}

export { maxAbsDiff } from '@posenc/core/testing';
