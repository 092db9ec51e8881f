/**
 * Scores windows with a core `DecoderLM`, each window at explicit positions
 * `firstPosition…firstPosition+N−1` (0 by default; Shortformer numbers a window from 1).
 */
import { sequencePositions, tf, tokenNll, type DecoderLM } from '@posenc/core';
import type { WindowScorer } from './perplexity.js';

export function decoderScorer(model: DecoderLM, firstPosition = 0): WindowScorer {
  return async ({ inputs, targets, batch, length }) => {
    const positions = sequencePositions(batch, length, firstPosition);
    const x = tf.tensor2d(inputs, [batch, length], 'int32');
    const y = tf.tensor2d(targets, [batch, length], 'int32');
    try {
      const nll = tf.tidy(() => tokenNll(model.forward(x, { positions }).logits, y));
      try {
        return (await nll.data()) as Float32Array;
      } finally {
        nll.dispose();
      }
    } finally {
      tf.dispose([x, y, positions.ids]);
    }
  };
}
