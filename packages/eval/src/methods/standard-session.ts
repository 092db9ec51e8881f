/**
 * The standard procedure: the shared model with the method's encodings, trained on random
 * windows of the training length at positions 0…L−1 (the same windows, in the same order, for
 * every method), evaluated on windows at positions 0…N−1.
 */
import {
  DecoderLM,
  randomWindows,
  sequencePositions,
  type LMBatch,
  type PositionEncoding,
  type SequencePositions,
  type tf,
} from '@posenc/core';
import { decoderScorer } from '../lm/decoder-scorer.js';
import { evaluatePerplexity } from '../lm/perplexity.js';
import type { MethodContext, MethodSession } from './method.js';

/** A training batch with the explicit position of every input token. */
export interface PositionedBatch extends LMBatch {
  positions: SequencePositions;
  /** 1 where the loss counts (all tokens when absent). */
  lossMask?: tf.Tensor2D;
}

/** The shared model: same shape and seed for every method; `maxPositions` sizes position tables. */
export function createModel(
  context: MethodContext,
  encodings: readonly PositionEncoding[],
  maxPositions = context.trainLength,
): DecoderLM {
  const { vocabSize, seed, model } = context;
  return new DecoderLM(
    {
      vocabSize,
      modelDim: model.modelDim,
      layers: model.layers,
      heads: model.heads,
      ffnDim: model.ffnDim,
      maxPositions,
      seed,
    },
    encodings,
  );
}

export function randomWindowBatch(context: MethodContext, step: number): PositionedBatch {
  const { trainTokens, batch, trainLength, seed } = context;
  return {
    ...randomWindows(trainTokens, batch, trainLength, seed, step),
    positions: sequencePositions(batch, trainLength),
  };
}

export interface StandardSessionOptions {
  /** Training batches other than random windows (a sampler keeping original positions). */
  batchAt?: (step: number) => PositionedBatch;
  notes?: string[];
}

export function standardSession(
  context: MethodContext,
  model: DecoderLM,
  options: StandardSessionOptions = {},
): MethodSession<PositionedBatch> {
  const scorer = decoderScorer(model);
  return {
    model,
    notes: options.notes ?? [],
    batchAt: (step) => (options.batchAt ?? ((s: number) => randomWindowBatch(context, s)))(step),
    loss: (batch) =>
      model.loss(batch.inputs, batch.targets, {
        positions: batch.positions,
        ...(batch.lossMask && { lossMask: batch.lossMask }),
      }),
    evaluate: (segments, spec) => evaluatePerplexity(segments, spec, scorer),
    dispose: () => model.dispose(),
  };
}
