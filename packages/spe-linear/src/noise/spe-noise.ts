/**
 * Where SPE's randomness comes from. The official code calls `torch.randn` inside every forward;
 * here the draws come from a source the caller controls, so that training redraws them per step
 * (as a pure function of the step, so a resumed run sees the same noise), evaluation can use one
 * fixed code, and a test replays the draws stored in a golden case.
 */
import { tf } from '@posenc/core';
import { noiseKey, normalRun } from './counter-normal.js';

/** Raw N(0, 1) draws, before any scaling, in the official code's layouts. */
export interface SpeNoiseSource {
  /** sineSPE's z: `[H, D, 2K, R]` (the official `(1, H, D, 2K, R)` without its leading 1). */
  sine(heads: number, dim: number, columns: number, realizations: number): tf.Tensor4D;
  /**
   * convSPE's white noise at sequence indices `start … start + length − 1`: `[R, H·D, length]`.
   * Position n's code reads indices n + L … n + 2L − 1 (the official crop of noise N + 4L long).
   */
  conv(realizations: number, channels: number, start: number, length: number): tf.Tensor3D;
  /** 2D convSPE's noise over rows `rowStart…` × columns `colStart…`: `[R, H·D, rows, cols]`. */
  conv2d(
    realizations: number,
    channels: number,
    rowStart: number,
    rows: number,
    colStart: number,
    cols: number,
  ): tf.Tensor4D;
  /** The gate's ε of `layer`: `[H, D, R]`, the same for q and k and for every position. */
  gating(layer: number, heads: number, dim: number, realizations: number): tf.Tensor3D;
}

const SINE = 1;
const CONV = 2;
const GATING = 3;

/**
 * The default source: counter-based normals keyed by (seed, draw, what, …), so any draw can be
 * reproduced from its two numbers. `setDraw` chooses the draw; nothing changes between calls
 * otherwise, so every layer and every call of one step sees the same noise.
 */
export class SeededSpeNoise implements SpeNoiseSource {
  private drawIndex = 0;

  constructor(readonly seed: number) {
    if (!Number.isInteger(seed) || seed < 0)
      throw new Error(`SPE noise: seed = ${seed} must be an integer ≥ 0`);
  }

  get draw(): number {
    return this.drawIndex;
  }

  setDraw(index: number): void {
    if (!Number.isInteger(index) || index < 0)
      throw new Error(`SPE noise: draw = ${index} must be an integer ≥ 0`);
    this.drawIndex = index;
  }

  sine(heads: number, dim: number, columns: number, realizations: number): tf.Tensor4D {
    const key = noiseKey(this.seed, this.drawIndex, SINE);
    const values = normalRun(key, 0, heads * dim * columns * realizations);
    return tf.tensor4d(values, [heads, dim, columns, realizations]);
  }

  conv(realizations: number, channels: number, start: number, length: number): tf.Tensor3D {
    const values = new Float32Array(realizations * channels * length);
    for (let r = 0; r < realizations; r++)
      for (let c = 0; c < channels; c++) {
        const key = noiseKey(this.seed, this.drawIndex, CONV, r, c);
        normalRun(key, start, length, values, (r * channels + c) * length);
      }
    return tf.tensor3d(values, [realizations, channels, length]);
  }

  conv2d(
    realizations: number,
    channels: number,
    rowStart: number,
    rows: number,
    colStart: number,
    cols: number,
  ): tf.Tensor4D {
    const values = new Float32Array(realizations * channels * rows * cols);
    let offset = 0;
    for (let r = 0; r < realizations; r++)
      for (let c = 0; c < channels; c++)
        for (let row = 0; row < rows; row++, offset += cols) {
          const key = noiseKey(this.seed, this.drawIndex, CONV, r, c, rowStart + row);
          normalRun(key, colStart, cols, values, offset);
        }
    return tf.tensor4d(values, [realizations, channels, rows, cols]);
  }

  gating(layer: number, heads: number, dim: number, realizations: number): tf.Tensor3D {
    const key = noiseKey(this.seed, this.drawIndex, GATING, layer);
    return tf.tensor3d(normalRun(key, 0, heads * dim * realizations), [heads, dim, realizations]);
  }
}
