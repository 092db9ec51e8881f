/**
 * A golden case's stored draws as an SPE noise source: sineSPE's z, convSPE's white noise (its
 * stored index i is sequence index i) and the gate's ε, raw as the official code drew them.
 */
import { tf } from '@posenc/core';
import { goldenEntry, goldenTensor, type GoldenCase } from '@posenc/core/testing';
import type { SpeNoiseSource } from '../noise/spe-noise.js';

export class ReplayedNoise implements SpeNoiseSource {
  constructor(private readonly golden: GoldenCase) {}

  private stored(name: string): tf.Tensor {
    return goldenTensor(goldenEntry(this.golden, name));
  }

  sine(heads: number, dim: number, columns: number, realizations: number): tf.Tensor4D {
    return tf.tidy(() => this.stored('noise_z').reshape([heads, dim, columns, realizations]));
  }

  conv(realizations: number, channels: number, start: number, length: number): tf.Tensor3D {
    return tf.tidy(() => {
      const z = this.stored('noise_z') as tf.Tensor3D;
      if (
        z.shape[0] !== realizations ||
        z.shape[1] !== channels ||
        start < 0 ||
        start + length > z.shape[2]
      )
        throw new Error(
          `${this.golden.file}: stored noise [${z.shape}] has no window [${realizations}, ${channels}, ${start}…${start + length - 1}]`,
        );
      return z.slice([0, 0, start], [-1, -1, length]);
    });
  }

  conv2d(): tf.Tensor4D {
    throw new Error(`${this.golden.file}: the golden cases are 1D`);
  }

  gating(_layer: number, heads: number, dim: number, realizations: number): tf.Tensor3D {
    return tf.tidy(() => this.stored('noise_gating').reshape([heads, dim, realizations]));
  }
}
