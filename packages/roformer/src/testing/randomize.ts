import { tf } from '@posenc/core';

/**
 * Redraws every parameter with a larger spread than the 0.02 init (LayerNorm gains around 1),
 * so attention is sharp and a wrong rotation or a transposed weight shows in the outputs.
 */
export function randomizeParameters(parameters: Record<string, tf.Variable>, seed: number): void {
  Object.entries(parameters).forEach(([name, p], i) =>
    tf.tidy(() => {
      const noise = tf.randomNormal(p.shape, 0, 0.5, 'float32', seed + i);
      p.assign(/norm\d?\.weight$/.test(name) ? tf.add(1, tf.mul(noise, 0.2)) : noise);
    }),
  );
}
