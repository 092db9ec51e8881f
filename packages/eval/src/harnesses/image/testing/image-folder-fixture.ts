/**
 * A small ImageFolder written for a test: `train/<class>/*.png` and `val/<class>/*.png` of
 * gradient images whose direction is the class (so a model can learn them), written as PNG files
 * through RawImage like the MNIST folder; and what a test breaks in it.
 */
import { RawImage } from '@huggingface/transformers';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface FixtureOptions {
  classes?: number;
  perClass?: { train: number; val: number };
  side?: number;
  channels?: 1 | 3;
}

/** Class c: brightness grows along direction c (left→right, top→bottom, …), plus a pixel of noise. */
function pixels(c: number, i: number, side: number, channels: 1 | 3): Uint8ClampedArray {
  const data = new Uint8ClampedArray(side * side * channels);
  for (let r = 0; r < side; r++)
    for (let x = 0; x < side; x++) {
      const t = [x, r, side - 1 - x, side - 1 - r][c % 4]! / (side - 1);
      const v = Math.round(255 * t * (0.6 + (0.4 * ((i * 7 + r * 3 + x) % 5)) / 4));
      for (let ch = 0; ch < channels; ch++) data[(r * side + x) * channels + ch] = v;
    }
  return data;
}

export async function writeImageFolder(root: string, options: FixtureOptions = {}): Promise<void> {
  const { classes = 2, perClass = { train: 6, val: 3 }, side = 12, channels = 1 } = options;
  for (const split of ['train', 'val'] as const)
    for (let c = 0; c < classes; c++) {
      const dir = join(root, split, `class${c}`);
      await mkdir(dir, { recursive: true });
      for (let i = 0; i < perClass[split]; i++)
        await new RawImage(pixels(c, i, side, channels), side, side, channels).save(
          join(dir, `${i}.png`),
        );
    }
}

/** A file with an image's name and bytes no decoder reads. */
export async function writeCorruptImage(path: string): Promise<void> {
  await writeFile(path, Buffer.from('this is not a PNG file, whatever its name says'));
}
