/**
 * The standard procedure: the shared model with the method's encodings, trained on random
 * windows of the training length at positions 0…L−1 (the same windows, in the same order, for
 * every method of a seed), evaluated on windows at positions 0…N−1.
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
import { decoderScorer } from '../evaluation/decoder-scorer.js';
import { evaluatePerplexity } from '../evaluation/perplexity.js';
import type { LMSession, LMSessionContext } from './session.js';

/** A training batch with the explicit position of every input token. */
export interface PositionedBatch extends LMBatch {
  positions: SequencePositions;
  /** 1 where the loss counts (all tokens when absent). */
  lossMask?: tf.Tensor2D;
}

/** The shared model: same shape and seed for every method; `maxPositions` sizes position tables. */
export function createModel(
  context: LMSessionContext,
  encodings: readonly PositionEncoding[],
  maxPositions = context.config.trainLength,
): DecoderLM {
  const { model } = context.config;
  return new DecoderLM(
    {
      vocabSize: context.data.vocabSize,
      modelDim: model.modelDim,
      layers: model.layers,
      heads: model.heads,
      ffnDim: model.ffnDim,
      maxPositions,
      seed: context.seed,
    },
    encodings,
  );
}

export function randomWindowBatch(context: LMSessionContext, step: number): PositionedBatch {
  const { batch, trainLength } = context.config;
  return {
    ...randomWindows(context.data.train.tokens, batch, trainLength, context.seed, step),
    positions: sequencePositions(batch, trainLength),
  };
}

export interface StandardSessionOptions {
  /** Training batches other than random windows (a sampler keeping original positions). */
  batchAt?: (step: number) => PositionedBatch;
  notes?: string[];
}

export function standardSession(
  context: LMSessionContext,
  model: DecoderLM,
  options: StandardSessionOptions = {},
): LMSession<PositionedBatch> {
  const scorer = decoderScorer(model);
  const batchAt = options.batchAt ?? ((step: number) => randomWindowBatch(context, step));
  return {
    model,
    notes: options.notes ?? [],
    parameters: () => model.parameters(),
    batchAt: (step) => batchAt(step),
    loss: (batch) =>
      model.loss(batch.inputs, batch.targets, {
        positions: batch.positions,
        ...(batch.lossMask && { lossMask: batch.lossMask }),
      }),
    evaluate: (segments, spec) => evaluatePerplexity(segments, spec, scorer),
    dispose: () => model.dispose(),
  };
}
