/**
 * The computation the browser test runs twice, in Node and in Chromium: RoPE on a fixed tensor
 * and a tiny RoFormer's masked-LM logits with weights read from a safetensors source. Inputs are
 * formulas, not random draws, so both sides see the same numbers without sharing state.
 */
import { tf, type SafetensorsSource } from '@posenc/core';
import { applyRope, loadHFRoFormer, RoFormer, type RoFormerOptions } from '../../index.js';

export const BROWSER_CASE_MODEL: RoFormerOptions = {
  vocabSize: 11,
  hiddenSize: 8,
  embeddingSize: 6,
  layers: 2,
  heads: 2,
  intermediateSize: 12,
  maxPositionEmbeddings: 16,
  hiddenDropout: 0,
};

export interface BrowserCaseResult {
  backend: string;
  rope: number[];
  logits: number[];
}

export async function runBrowserCase(weights: SafetensorsSource): Promise<BrowserCaseResult> {
  const rope = tf.tidy(() => {
    const [b, h, n, d] = [1, 2, 8, 16];
    // Made on the host: a GPU's sin of large arguments is itself off by more than the tolerance.
    const values = Float32Array.from({ length: b * h * n * d }, (_, i) => Math.sin(i * 0.37));
    return applyRope(tf.tensor4d(values, [b, h, n, d]), undefined, { offset: 3 });
  });
  const model = new RoFormer(BROWSER_CASE_MODEL);
  await loadHFRoFormer(model, weights);
  const logits = tf.tidy(() =>
    model.mlmLogits(model.forward(tf.tensor2d([[1, 4, 9, 2, 7]], [1, 5], 'int32')).hidden),
  );
  const result = {
    backend: tf.getBackend(),
    rope: Array.from(await rope.data()),
    logits: Array.from(await logits.data()),
  };
  tf.dispose([rope, logits]);
  model.dispose();
  return result;
}
