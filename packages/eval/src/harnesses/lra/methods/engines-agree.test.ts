/**
 * Every LRA method's loss and gradients agree between the kernels engine (what users get in
 * Node) and tfjs-cpu, the reference: the same classifier, initialisation, noise draw and batch on
 * each. The tests of each kernel compare it alone; this compares the whole model a method trains,
 * at a short length and, for linear attention, at one that cuts sineSPE's filter into chunks
 * (N = 700, B = 4: two chunks of 512, the second short, one table shared by the rows).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { classCrossEntropy, createEncoding, initEngine, tf } from '@posenc/core';
import { loadPlugins } from '../../../run/plugins.js';
import { LraClassifier } from '../model/lra-classifier.js';
import { LRA_METHODS, type LraMethod } from './rows.js';
import type { TaskPlan } from '../config.js';

const PLAN = {
  modelDim: 32,
  heads: 2,
  layers: 2,
  ffnDim: 64,
  mlpDim: 32,
  randomFeatures: 16,
  speRealizations: 8,
  speKernel: 8,
} as TaskPlan;
const VOCAB = 20;

/** Deterministic ids in [1, VOCAB), the last row padded at its end. */
function tokens(batch: number, length: number): Int32Array {
  const ids = Int32Array.from({ length: batch * length }, (_, i) => 1 + ((i * 7919) % (VOCAB - 1)));
  for (let i = length - 3; i < length; i++) ids[(batch - 1) * length + i] = 0;
  return ids;
}

async function lossAndGradients(backend: string, method: LraMethod, batch: number, length: number) {
  await tf.setBackend(backend);
  const encodings = method.encodings(PLAN).map((c) => createEncoding(c));
  const model = new LraClassifier(
    {
      vocabSize: VOCAB,
      classes: 3,
      maxLength: length,
      modelDim: PLAN.modelDim,
      heads: PLAN.heads,
      layers: PLAN.layers,
      ffnDim: PLAN.ffnDim,
      mlpDim: PLAN.mlpDim,
      pooling: 'mean',
      dual: false,
      attention: method.attention,
      featureMap: method.featureMap,
      randomFeatures: PLAN.randomFeatures,
      dropout: 0,
      seed: 3,
    },
    encodings,
  );
  for (const r of [...encodings, model.body.featureMap] as { setDraw?: (i: number) => void }[])
    r?.setDraw?.(5);
  const params = model.parameters();
  const out = tf.tidy(() => {
    const ids = tf.tensor2d(tokens(batch, length), [batch, length], 'int32');
    const labels = tf.tensor1d(
      Array.from({ length: batch }, (_, i) => i % 3),
      'int32',
    );
    const { value, grads } = tf.variableGrads(
      () => classCrossEntropy(model.logits({ ids }, false), labels) as tf.Scalar,
      Object.values(params),
    );
    return {
      loss: value.dataSync()[0]!,
      grads: Object.fromEntries(
        Object.entries(params).map(([name, v]) => [
          name,
          Float32Array.from(grads[v.name]!.dataSync()),
        ]),
      ),
    };
  });
  model.dispose();
  return out;
}

const norm = (a: Float32Array) => Math.sqrt(a.reduce((sum, x) => sum + x * x, 0));

/**
 * ‖a − b‖ / max(‖b‖, floor). The floor keeps a gradient that is zero in exact arithmetic (a key
 * bias under softmax, which shifts every score of a query alike: about 1e-12 here) from turning
 * rounding into a large relative error.
 */
function relativeError(a: Float32Array, b: Float32Array, floor: number): number {
  let diff = 0;
  for (let i = 0; i < b.length; i++) diff += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(diff) / Math.max(norm(b), floor);
}

describe('every LRA method: kernels engine against cpu', () => {
  let kernels = '';
  // In beforeAll, not a test: every case needs it, also when run alone (-t).
  beforeAll(async () => {
    await loadPlugins();
    await initEngine({ engine: 'kernels', log: null });
    kernels = tf.getBackend();
  });

  it('the kernels engine is active, not cpu', () => {
    expect(kernels).not.toBe('cpu');
  });

  const cases = [
    ...LRA_METHODS.map((method) => ({ method, batch: 2, length: 40 })),
    ...LRA_METHODS.filter((m) => m.attention === 'linear').map((method) => ({
      method,
      batch: 4,
      length: 700,
    })),
  ];
  for (const { method, batch, length } of cases)
    it(
      `${method.name}, B = ${batch}, N = ${length}: loss and every parameter's gradient`,
      { timeout: 120_000 },
      async () => {
        const reference = await lossAndGradients('cpu', method, batch, length);
        const actual = await lossAndGradients(kernels, method, batch, length);
        expect(actual.loss).toBeCloseTo(reference.loss, 4);
        const floor = 1e-4 * Math.max(...Object.values(reference.grads).map(norm));
        for (const [name, g] of Object.entries(reference.grads))
          expect(relativeError(actual.grads[name]!, g, floor), name).toBeLessThan(1e-3);
      },
    );
});
