import { describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { onCpuWithoutLeaks } from '../testing/index.js';
import { clipByGlobalNorm, globalNorm } from './clip.js';

onCpuWithoutLeaks();

describe('clipByGlobalNorm', () => {
  it('measures one norm over all gradients', () => {
    const grads = { a: tf.tensor([3]), b: tf.tensor([[4, 0]]) };
    const norm = globalNorm(grads);
    expect(norm.dataSync()[0]).toBeCloseTo(5, 6);
    tf.dispose([norm, ...Object.values(grads)]);
  });

  it('scales every gradient by maxNorm / norm and returns the norm before clipping', () => {
    const grads = { a: tf.tensor([3, 0]), b: tf.tensor([[0, 4]]) };
    const { gradients, norm } = clipByGlobalNorm(grads, 1);
    expect(norm).toBeCloseTo(5, 6);
    // torch: coefficient = maxNorm / (norm + 1e-6)
    const coefficient = 1 / (5 + 1e-6);
    expect(Array.from(gradients['a']!.dataSync())).toEqual([Math.fround(3 * coefficient), 0]);
    expect(gradients['b']!.dataSync()[1]).toBeCloseTo(4 * coefficient, 7);
    const clippedNorm = globalNorm(gradients);
    expect(clippedNorm.dataSync()[0]).toBeCloseTo(1, 5);
    expect(grads.a.isDisposed && grads.b.isDisposed).toBe(true);
    tf.dispose([clippedNorm, ...Object.values(gradients)]);
  });

  it('leaves gradients within the limit untouched', () => {
    const grads = { a: tf.tensor([0.3, -0.4]) };
    const result = clipByGlobalNorm(grads, 1);
    expect(result.gradients).toBe(grads);
    expect(result.norm).toBeCloseTo(0.5, 6);
    expect(Array.from(grads.a.dataSync())).toEqual([Math.fround(0.3), Math.fround(-0.4)]);
    tf.dispose(grads.a);
  });

  it('reports a non-finite norm without scaling, for the caller to stop on', () => {
    const grads = { a: tf.tensor([NaN, 1]) };
    const result = clipByGlobalNorm(grads, 1);
    expect(result.norm).toBeNaN();
    expect(result.gradients).toBe(grads);
    tf.dispose(grads.a);
  });

  it('rejects a maxNorm that is not positive', () => {
    expect(() => clipByGlobalNorm({}, 0)).toThrow('maxNorm must be > 0, got 0');
  });
});
