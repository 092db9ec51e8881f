/**
 * GELU in its exact form (Hendrycks & Gimpel 2016), as PyTorch's default `nn.GELU` and HF's
 * `'gelu'`, which BERT and RoFormer checkpoints were trained with:
 *
 *   gelu_erf(x) = x·Φ(x) = 0.5·x·(1 + erf(x/√2))
 *
 * Core's `gelu` is the tanh approximation; the two differ by up to 4.7e-4 (near |x| = 2.7),
 * enough to move a pretrained model's outputs, so a model that loads such weights needs this
 * one. TF.js's erf is Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7) with its exact gradient.
 */
import { tf } from '../engine/tf.js';

export function geluErf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));
}
