/**
 * End to end: a small decoder LM trained for a few AdamW steps gives the same losses and
 * parameters on the kernels engine as on cpu, and a step leaks no tensor.
 */
import { describe, expect, it } from 'vitest';
import { AdamW, createEncoding, DecoderLM, tf } from '@posenc/core';
import { registerKernelsBackend } from './backend.js';
import { allKernelsBackend, expectClose } from './testing/compare.js';

async function trainOn(
  backend: string,
  steps: number,
): Promise<{ losses: number[]; weights: Float32Array; leaked: number[] }> {
  await tf.setBackend(backend);
  const lm = new DecoderLM(
    { vocabSize: 40, modelDim: 32, layers: 2, heads: 4, maxPositions: 16, seed: 3 },
    [createEncoding({ name: 'alibi' })],
  );
  const params = lm.parameters();
  const optimizer = new AdamW({ lr: 3e-3 });
  const tokens = tf.tensor2d(
    Array.from({ length: 2 * 17 }, (_, i) => (i * 7 + 3) % 40),
    [2, 17],
    'int32',
  );
  const inputs = tokens.slice([0, 0], [2, 16]) as tf.Tensor2D;
  const targets = tokens.slice([0, 1], [2, 16]) as tf.Tensor2D;
  const nameOf = new Map(Object.entries(params).map(([n, v]) => [v.name, n]));
  const losses: number[] = [];
  const leaked: number[] = [];
  for (let s = 0; s < steps; s++) {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => lm.loss(inputs, targets, { training: true }),
        Object.values(params),
      );
      const byName: Record<string, tf.Tensor> = {};
      for (const [v, g] of Object.entries(grads)) byName[nameOf.get(v)!] = g;
      optimizer.applyGradients(params, byName);
      losses.push(value.dataSync()[0]!);
    });
    leaked.push(tf.memory().numTensors - before);
  }
  const weights = Float32Array.from(params['layers.1.ffn.in.weight']!.dataSync());
  optimizer.dispose();
  lm.dispose();
  tf.dispose([tokens, inputs, targets]);
  return { losses, weights, leaked };
}

describe('training a decoder LM on the kernels engine', () => {
  it('default kernels, and every kernel with no size threshold on either host, match cpu step for step, without leaks', async () => {
    const cpu = await trainOn('cpu', 3);
    const defaults = (await registerKernelsBackend()).name;
    const allOnWasm = (await allKernelsBackend('wasm')).name;
    const allOnCpu = (await allKernelsBackend('cpu')).name;
    for (const backend of [defaults, allOnWasm, allOnCpu]) {
      const run = await trainOn(backend, 3);
      expectClose(run.losses, cpu.losses, `${backend} losses`, { rtol: 1e-5, atol: 1e-5 });
      expectClose(run.weights, cpu.weights, `${backend} weights after 3 steps`, {
        rtol: 1e-4,
        atol: 1e-5,
      });
      // The first step creates the optimizer's moments and ALiBi's cached slopes, as on cpu;
      // later steps create nothing that outlives them.
      expect(run.leaked).toEqual(cpu.leaked);
      expect(run.leaked.slice(1)).toEqual([0, 0]);
    }
    expect(cpu.losses[2]).toBeLessThan(cpu.losses[0]!);
  });
});
