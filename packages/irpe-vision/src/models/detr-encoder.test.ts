/**
 * The DETR-style encoder on a padded batch of images of different sizes: at each image's real
 * cells the output equals the image's own, run alone (1e-5), with iRPE on q, k and v and 2D
 * sinusoids, for both stems; padded keys get no attention.
 */
import { createEncoding, tf } from '@posenc/core';
import { expectClose, onCpuWithoutLeaks } from '@posenc/core/testing';
import { describe, expect, it } from 'vitest';
import '../index.js';
import { DetrEncoder, type ImageSize } from './detr-encoder.js';

onCpuWithoutLeaks();

const SIZES: ImageSize[] = [
  [16, 24],
  [24, 8],
];

/** The images top-left in a zero-padded batch `[B, maxH, maxW, 3]`. */
function paddedBatch(images: tf.Tensor4D[]): tf.Tensor4D {
  const h = Math.max(...images.map((x) => x.shape[1]));
  const w = Math.max(...images.map((x) => x.shape[2]));
  return tf.tidy(() =>
    tf.concat(
      images.map((x) =>
        tf.pad(x, [
          [0, 0],
          [0, h - x.shape[1]],
          [0, w - x.shape[2]],
          [0, 0],
        ]),
      ),
    ),
  ) as tf.Tensor4D;
}

describe('DetrEncoder', () => {
  for (const stem of ['conv', 'patches'] as const)
    it(`${stem} stem: an image in a padded batch gets the output it gets alone, at its own cells`, () => {
      const encoder = new DetrEncoder(
        { modelDim: 16, layers: 2, heads: 2, stem, stride: 8, imageSize: 32, seed: 3 },
        [
          createEncoding({ name: 'sinusoidal', scale: 1 }),
          createEncoding({ name: 'irpe', ratio: 2, on: 'qkv', initStd: 0.5 }),
        ],
      );
      const images = SIZES.map(
        ([h, w], i) => tf.randomNormal([1, h, w, 3], 0, 1, 'float32', 10 + i) as tf.Tensor4D,
      );
      const batch = paddedBatch(images);
      const together = encoder.forward(batch, { sizes: SIZES, returnProbs: true });
      expect([together.height, together.width]).toEqual([3, 3]);
      const memory = together.memory.arraySync();
      const valid = together.valid.arraySync();
      SIZES.forEach(([h, w], b) => {
        const alone = encoder.forward(images[b]!);
        const [rows, cols] = [encoder.cells(h), encoder.cells(w)];
        expect([alone.height, alone.width]).toEqual([rows, cols]);
        const own = Array.from({ length: rows * cols }, (_, i) => {
          const [r, c] = [Math.floor(i / cols), i % cols];
          return memory[b]![r * together.width + c]!;
        });
        expectClose(own, alone.memory, { atol: 1e-5 });
        expect(valid[b]!.reduce((a, v) => a + v, 0)).toBe(rows * cols);
        tf.dispose([alone.memory, alone.valid]);
      });
      // No query attends to a padded key.
      const probs = together.probs![1]!.arraySync();
      probs.forEach((heads, b) =>
        heads.forEach((rows) =>
          rows.forEach((row) =>
            row.forEach((p, j) => {
              if (valid[b]![j] === 0) expect(p).toBe(0);
            }),
          ),
        ),
      );
      tf.dispose([...images, batch, together.memory, together.valid, ...together.probs!]);
      encoder.dispose();
    });

  it('trains: every parameter gets a gradient, and nothing leaks', () => {
    const encoder = new DetrEncoder(
      { modelDim: 8, layers: 1, heads: 2, stride: 4, stemChannels: 4, imageSize: 16 },
      [createEncoding({ name: 'irpe', initStd: 0.1 })],
    );
    const batch = tf.randomNormal([2, 12, 16, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const parameters = encoder.parameters();
    expect(Object.keys(parameters)).toEqual(
      expect.arrayContaining([
        'stem.0.weight',
        'stem.1.bias',
        'input_proj.weight',
        'layers.0.attn.rpe_k.lookup_table_weight',
      ]),
    );
    // A random projection of the output: a plain sum of post-LN features is constant.
    const projection = tf.randomNormal([2, 12, 8], 0, 1, 'float32', 6);
    const { value, grads } = tf.variableGrads(() => {
      const out = encoder.forward(batch, {
        sizes: [
          [12, 16],
          [8, 9],
        ],
      });
      return tf.sum(tf.mul(tf.mul(out.memory, projection), out.valid.expandDims(2))) as tf.Scalar;
    }, Object.values(parameters));
    for (const [name, v] of Object.entries(parameters))
      expect(
        tf.tidy(() => grads[v.name]!.abs().max().dataSync()[0]),
        name,
      ).toBeGreaterThan(0);
    tf.dispose([value, ...Object.values(grads), batch, projection]);
    encoder.dispose();
  });

  it('names what does not fit', () => {
    expect(() => new DetrEncoder({ modelDim: 8, layers: 1, heads: 2, stride: 6 }, [])).toThrow(
      /'stride' = 6.*power of 2/,
    );
    const encoder = new DetrEncoder(
      { modelDim: 8, layers: 1, heads: 2, stem: 'patches', stride: 4 },
      [],
    );
    const batch = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
    expect(() => encoder.forward(batch, { sizes: [[9, 8]] })).toThrow(/image 0 has size 9×8/);
    expect(() => encoder.forward(batch, { sizes: [[6, 8]] })).toThrow(
      /not a multiple of the patch size 4/,
    );
    batch.dispose();
    encoder.dispose();
  });
});
