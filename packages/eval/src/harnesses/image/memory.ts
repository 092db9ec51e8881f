/**
 * Bytes a cell of the image harness needs at its peak besides the images it keeps (those are
 * already in memory when this is checked), from the shapes, so settings that cannot fit are
 * refused before anything trains: parameters four times (weights, gradients, two AdamW
 * moments) and what a training step keeps for its backward pass, or an evaluation batch at the
 * largest size, whichever is larger. It errs high, like the LM harness's estimate.
 */
import { largestSize, type ImageConfig } from './config.js';

const FLOAT = 4;

export function estimateImageMemory(config: ImageConfig, classes: number): number {
  const { modelDim: d, layers, heads, ffnDim, patchSize } = config.model;
  const patch = patchSize * patchSize * config.channels;
  const tokensAt = (size: number) => (size / patchSize) ** 2 + 1;
  const tokens = tokensAt(config.imageSize);
  const perLayer = 4 * d * d + 4 * d + 2 * d * ffnDim + ffnDim + d + 4 * d;
  const parameters = patch * d + layers * perLayer + tokens * d + (d + 1) * classes;
  const b = config.batch;
  const activations = (n: number) =>
    layers * (b * n * (10 * d + 3 * ffnDim) + 3 * b * heads * n * n);
  const input = b * config.imageSize * config.imageSize * config.channels;
  const evaluation = activations(tokensAt(largestSize(config))) / layers;
  return FLOAT * (4 * parameters + Math.max(activations(tokens) + input, evaluation));
}
