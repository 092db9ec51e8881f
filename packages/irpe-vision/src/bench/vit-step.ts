/**
 * The ViT-Tiny step the bench times and the profile takes apart: DeiT-Tiny's shape (224px,
 * patch 16, 12 layers, d 192, 3 heads, 1000 classes) with DeiT's learned table, with or without
 * iRPE-K (contextual product tables shared by the heads, 50 buckets).
 */
import { AdamW, createEncoding, tf, ViT, type EncodingConfig, type ViTConfig } from '@posenc/core';

export function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min)
    throw new Error(`${name}=${raw} is not allowed; expected an integer ≥ ${min}`);
  return v;
}

export const DEIT_TINY: ViTConfig & { imageSize: number; channels: number } = {
  imageSize: 224,
  patchSize: 16,
  channels: 3,
  classes: 1000,
  modelDim: 192,
  layers: 12,
  heads: 3,
  ffnDim: 768,
};

export const PLAIN: EncodingConfig[] = [{ name: 'learned' }];
export const WITH_IRPE: EncodingConfig[] = [{ name: 'learned' }, { name: 'irpe' }];

export interface Step {
  run(): number;
  dispose(): void;
}

/** One timed forward and backward pass (and, with `train`, an AdamW update); returns milliseconds. */
export function stepOf(encodings: EncodingConfig[], batch: number, train: boolean): Step {
  const vit = new ViT(DEIT_TINY, encodings.map(createEncoding));
  const params = vit.parameters();
  const vars = Object.values(params);
  const nameOf = new Map(Object.entries(params).map(([name, v]) => [v.name, name]));
  const optimizer = new AdamW({ lr: 1e-3, weightDecay: 0.05 });
  const { imageSize: s, channels } = DEIT_TINY;
  const images = tf.randomNormal([batch, s, s, channels], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => (i * 37) % DEIT_TINY.classes),
    'int32',
  );
  return {
    run() {
      const start = performance.now();
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => vit.loss(images, labels), vars);
        if (train) {
          const byName: Record<string, tf.Tensor> = {};
          for (const [varName, g] of Object.entries(grads)) byName[nameOf.get(varName)!] = g;
          optimizer.applyGradients(params, byName);
        }
        // The loss is read, as a training loop reads it for its log.
        value.dataSync();
      });
      return performance.now() - start;
    },
    dispose() {
      optimizer.dispose();
      vit.dispose();
      tf.dispose([images, labels]);
    },
  };
}
