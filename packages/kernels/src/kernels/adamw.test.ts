/**
 * core's AdamW on this engine runs the fused `PosencAdamWUpdate` kernel; on cpu it runs the
 * composite TF.js ops. Both must give the same parameters and moments, to the bit.
 */
import { describe, expect, it } from 'vitest';
import { AdamW, ADAMW_UPDATE_KERNEL, tf } from '@posenc/core';
import { registerKernelsBackend } from '../backend.js';
import { allKernelsBackend, randomValues, sizeOf } from '../testing/compare.js';

const SHAPES: Record<string, number[]> = {
  'ffn.in.weight': [24, 40], // decayed
  'ffn.in.bias': [40], // rank 1: no decay
  'norm.weight': [7], // no decay by name
  'big.weight': [130, 257], // above the elementwise threshold, odd sizes
  'empty.weight': [0, 3],
};

async function train(backend: string, steps: number) {
  await tf.setBackend(backend);
  const params: Record<string, tf.Variable> = {};
  for (const [i, [name, shape]] of Object.entries(SHAPES).entries())
    params[name] = tf.variable(
      tf.tensor(randomValues(sizeOf(shape), 11 + i), shape),
      true,
      name + backend,
    );
  const optimizer = new AdamW({ lr: 3e-2, weightDecay: 0.1 });
  for (let s = 0; s < steps; s++) {
    const grads: Record<string, tf.Tensor> = {};
    for (const [i, [name, shape]] of Object.entries(SHAPES).entries())
      grads[name] = tf.tensor(randomValues(sizeOf(shape), 100 * s + i, -3, 3), shape);
    const before = tf.memory().numTensors;
    optimizer.applyGradients(params, grads);
    if (s > 0) expect(tf.memory().numTensors).toBe(before); // moments exist after step 1
    tf.dispose(Object.values(grads));
  }
  const state = optimizer.exportState().tensors;
  const read = (t: tf.Tensor) => Array.from(t.dataSync());
  const out = {
    params: Object.fromEntries(Object.entries(params).map(([n, v]) => [n, read(v)])),
    moments: Object.fromEntries(Object.entries(state).map(([n, t]) => [n, read(t)])),
  };
  optimizer.dispose();
  tf.dispose(Object.values(params));
  return out;
}

describe('PosencAdamWUpdate', () => {
  it('is registered on this engine and not on cpu', async () => {
    const { name } = await registerKernelsBackend();
    expect(tf.getKernel(ADAMW_UPDATE_KERNEL, name)).toBeDefined();
    expect(tf.getKernel(ADAMW_UPDATE_KERNEL, 'cpu')).toBeUndefined();
  });

  it('gives the composite update bit for bit over 4 steps, with and without decay', async () => {
    const cpu = await train('cpu', 4);
    for (const backend of [
      (await registerKernelsBackend()).name,
      (await allKernelsBackend('cpu')).name,
    ]) {
      const fused = await train(backend, 4);
      expect(fused.params).toEqual(cpu.params);
      expect(fused.moments).toEqual(cpu.moments);
    }
    // The step did change the parameters, and decay made a difference where it applies.
    expect(cpu.params['ffn.in.weight']).not.toEqual(Array.from(randomValues(24 * 40, 11)));
  });
});
