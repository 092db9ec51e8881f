/**
 * Acceptance: the paper's recipe on a tiny byte-level LM (2 layers, d = 64) and State of the
 * Union addresses. Pretrain at Lt = 64 with a learned absolute table, interpolate the table to
 * 4·Lt = 256, then continue on chunk-α samples (α = 0.25: four 16-token chunks per sample, ids
 * up to 255) of whole addresses. The chunk-α phase keeps the loss well below the unigram
 * entropy (under 85% of it, core's tiny-LM bar) and the model runs at 4·Lt on held-out text.
 * Measured (wasm): pretraining ends at 0.84·H; held-out at 256 right after interpolation 0.84·H;
 * after the chunk-α phase training 0.80·H, held-out 0.81·H at 256.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  byteTokens,
  createEncoding,
  DecoderLM,
  initEngine,
  randomWindows,
  tf,
  train,
  unigramEntropy,
  sotuAddresses,
  windowsAt,
} from '@posenc/core';
import {
  extendPositionTable,
  segmentBatch,
  segmentLoss,
  type SegmentBatchOptions,
} from './index.js';

const LT = 64;
const R = 4;

beforeAll(async () => {
  await initEngine({ log: null });
});

/** Mean loss of nonoverlapping `length`-token windows of `tokens` (positions 0…length−1). */
function heldOutLoss(model: DecoderLM, tokens: Int32Array, length: number): number {
  const windows = Math.floor((tokens.length - 1) / length);
  const starts = Array.from({ length: windows }, (_, w) => w * length);
  return tf.tidy(() => {
    const { inputs, targets } = windowsAt(tokens, starts, length);
    return model.loss(inputs, targets).dataSync()[0]!;
  });
}

const lastMean = (losses: number[]): number => losses.slice(-20).reduce((a, b) => a + b, 0) / 20;

describe('tiny LM: pretrain at Lt, interpolate to 4·Lt, continue on chunk-α segments', () => {
  it('learns on segments and runs at 4·Lt', async () => {
    const addresses = sotuAddresses(1790, 1800);
    const documents = addresses.map(byteTokens);
    const stream = byteTokens(addresses.join('\n\n'));
    const entropy = unigramEntropy(stream);
    const held = byteTokens(sotuAddresses(1801, 1801)[0]!.slice(0, 4 * 1024 + 1));
    const optimizer = { lr: 3e-3, weightDecay: 0.01 };

    const model = new DecoderLM(
      { vocabSize: 256, modelDim: 64, layers: 2, heads: 4, maxPositions: LT, seed: 1 },
      [createEncoding({ name: 'learned', interpolate: 'none' })],
    );
    await train({
      parameters: model.parameters(),
      steps: 150,
      seed: 1,
      batchAt: (step) => randomWindows(stream, 8, LT, 1, step),
      loss: (b) => model.loss(b.inputs, b.targets),
      optimizer,
      schedule: { kind: 'cosine', warmupSteps: 15, minLrRatio: 0.1 },
      clipNorm: 1,
    });
    expect(() => heldOutLoss(model, held, R * LT)).toThrow(/outside the table of 64 positions/);

    const extended = extendPositionTable(model, R);
    model.dispose();
    const options: SegmentBatchOptions = {
      documents,
      batch: 8,
      trainLength: LT,
      alpha: 0.25,
      method: 'chunk',
      extendedLength: R * LT,
      seed: 3,
    };
    let largestId = 0;
    const before = tf.memory().numTensors;
    const result = await train({
      parameters: extended.parameters(),
      steps: 100,
      seed: 2,
      batchAt: (step) => {
        const batch = segmentBatch(options, step);
        largestId = Math.max(largestId, batch.positions.ids.max().dataSync()[0]!);
        return batch;
      },
      loss: (batch) => segmentLoss(extended, batch),
      optimizer,
      schedule: { kind: 'cosine', warmupSteps: 10, minLrRatio: 0.1 },
      clipNorm: 1,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.lossHistory.every(Number.isFinite)).toBe(true);
    expect(largestId).toBeGreaterThan(3 * LT); // trained at positions far past Lt
    expect(lastMean(result.lossHistory)).toBeLessThan(0.85 * entropy);
    expect(heldOutLoss(extended, held, R * LT)).toBeLessThan(0.85 * unigramEntropy(held));
    extended.dispose();
  });
});
