import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { crossEntropyGradient, softmaxCrossEntropy } from './cross-entropy.js';

const [rows, vocabulary] = [4, 6];
const logits = Array.from({ length: rows * vocabulary }, (_, i) => Math.sin(i * 1.7) * 4);
const targets = [0, 5, 2, 2];

describe('softmaxCrossEntropy (composite TF.js ops)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('equals −log softmax at the target, in float64', () => {
    const nll = tf.tidy(() =>
      Array.from(
        softmaxCrossEntropy(
          tf.tensor2d(logits, [rows, vocabulary]),
          tf.tensor1d(targets, 'int32'),
        ).dataSync(),
      ),
    );
    nll.forEach((v, r) => {
      const row = logits.slice(r * vocabulary, (r + 1) * vocabulary);
      const logZ = Math.log(row.reduce((s, x) => s + Math.exp(x), 0));
      expect(v).toBeCloseTo(logZ - row[targets[r]!]!, 5);
    });
  });

  it('crossEntropyGradient equals the autodiff gradient of the composite ops', () => {
    const before = tf.memory().numTensors;
    const [analytic, autodiff] = tf.tidy(() => {
      const x = tf.tensor2d(logits, [rows, vocabulary]);
      const t = tf.tensor1d(targets, 'int32');
      const dy = tf.tensor1d([0.5, -1, 2, 0.25]);
      return [
        Array.from(crossEntropyGradient(dy, x, t).dataSync()),
        Array.from(
          tf
            .grad((l: tf.Tensor) => tf.sum(tf.mul(softmaxCrossEntropy(l, t), dy)))(x)
            .dataSync(),
        ),
      ];
    });
    analytic!.forEach((v, i) => expect(v).toBeCloseTo(autodiff![i]!, 6));
    expect(tf.memory().numTensors).toBe(before);
  });
});
