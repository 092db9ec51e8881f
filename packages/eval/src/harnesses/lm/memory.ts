/**
 * Bytes a cell of the LM harness needs at its peak, estimated from the shapes, so settings that
 * cannot fit (`--batch 1000000`, `--dim 100000`) are refused before anything runs instead of
 * failing deep inside the engine. The estimate counts float32 parameters four times (weights,
 * gradients, two AdamW moments) and the activations a training step keeps for its backward pass;
 * it errs high by design but keeps the default preset three orders of magnitude below a limit.
 */
import { longestEvalLength, type LMConfig } from './config.js';
import { MAX_BATCH_TOKENS } from './evaluate.js';

const FLOAT = 4;

export function estimateLMMemory(config: LMConfig, vocabSize: number): number {
  const { modelDim: d, layers, heads, ffnDim } = config.model;
  const tables = Math.max(config.trainLength, longestEvalLength(config)) * d;
  const perLayer = 4 * d * d + 4 * d + 2 * d * ffnDim + ffnDim + d + 4 * d;
  const parameters = vocabSize * d + layers * perLayer + tables + 2 * d;
  // A training step: per layer the inputs, q/k/v, attention output, FFN hidden (kept and its
  // activation) and the scores, probabilities and their gradient; the logits and their softmax.
  const tokens = config.batch * config.trainLength;
  const attention = 3 * config.batch * heads * config.trainLength * config.trainLength;
  const training = layers * (tokens * (10 * d + 3 * ffnDim) + attention) + 3 * tokens * vocabSize;
  // An evaluation pass at the longest length, MAX_BATCH_TOKENS tokens at a time (one layer live).
  const longest = longestEvalLength(config);
  const evalRows = Math.max(1, Math.floor(MAX_BATCH_TOKENS / longest));
  const evaluation =
    evalRows * (2 * heads * longest * longest + longest * (6 * d + ffnDim + vocabSize));
  return FLOAT * (4 * parameters + Math.max(training, evaluation));
}
