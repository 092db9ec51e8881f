/**
 * A tiny byte-level LM (2 layers, d=64) trained with a given position encoding: the demo the
 * README's first command runs, and the smoke test every reference encoding must pass.
 */
import { createEncoding, type EncodingConfig } from '../encoding/registry.js';
import { DecoderLM } from '../models/decoder-lm.js';
import { byteTokens, randomWindows, unigramEntropy } from '../data/language-modelling.js';
import { train, type ProgressEvent } from '../training/trainer.js';
import '../encodings/index.js';

export interface TinyLMOptions {
  encoding: EncodingConfig;
  text: string;
  steps: number;
  batch?: number;
  length?: number;
  seed?: number;
  onProgress?: (event: ProgressEvent) => void;
}

export interface TinyLMResult {
  encoding: string;
  /** Mean training loss of every step, nats per byte. */
  losses: number[];
  /** Unigram entropy of the text, nats per byte: the loss of a model that ignores context. */
  unigramEntropy: number;
  tokensPerSecond: number;
}

export async function trainTinyLM(options: TinyLMOptions): Promise<TinyLMResult> {
  const { steps, seed = 0 } = options;
  const batch = options.batch ?? 16;
  const length = options.length ?? 64;
  const tokens = byteTokens(options.text);
  const model = new DecoderLM(
    { vocabSize: 256, modelDim: 64, layers: 2, heads: 4, maxPositions: length, seed },
    [createEncoding(options.encoding)],
  );
  let tokensPerSecond = 0;
  try {
    const result = await train({
      parameters: model.parameters(),
      steps,
      seed,
      batchAt: (step) => randomWindows(tokens, batch, length, seed, step),
      loss: (b) => model.loss(b.inputs, b.targets),
      optimizer: { lr: 3e-3, weightDecay: 0.01 },
      schedule: {
        kind: 'cosine',
        warmupSteps: Math.min(30, Math.floor(steps / 10)),
        minLrRatio: 0.1,
      },
      clipNorm: 1,
      onProgress: (e) => {
        tokensPerSecond = e.tokensPerSecond ?? 0;
        options.onProgress?.(e);
      },
    });
    return {
      encoding: options.encoding.name,
      losses: result.lossHistory,
      unigramEntropy: unigramEntropy(tokens),
      tokensPerSecond,
    };
  } finally {
    model.dispose();
  }
}
