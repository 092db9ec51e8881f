/**
 * Decoding an image file through transformers.js's image utilities (`RawImage`, sharp
 * underneath): the bytes are read here and handed over as a Blob, so a failure names the file.
 * Every image is converted to the run's channels (grayscale or RGB) and, to bound memory, kept
 * with its shorter side at most `keepSide` pixels (the harness evaluates at most at that size).
 */
import { RawImage } from '@huggingface/transformers';
import { readFile } from 'node:fs/promises';

export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  /** Row-major `[height, width, channels]` bytes. */
  readonly data: Uint8ClampedArray;
}

export function asRawImage(image: DecodedImage): RawImage {
  return new RawImage(image.data, image.width, image.height, image.channels);
}

/** The image at `path`, or the decoder's reason it cannot be read. */
export async function decodeImage(
  path: string,
  channels: 1 | 3,
  keepSide: number,
): Promise<DecodedImage | { error: string }> {
  let image: RawImage;
  try {
    const bytes = await readFile(path);
    image = await RawImage.fromBlob(new Blob([bytes]));
  } catch (e) {
    return { error: String((e as Error).message ?? e).split('\n')[0]! };
  }
  image = channels === 1 ? image.grayscale() : image.rgb();
  const shorter = Math.min(image.width, image.height);
  if (shorter > keepSide) {
    const scale = keepSide / shorter;
    image = await image.resize(
      Math.max(1, Math.round(image.width * scale)),
      Math.max(1, Math.round(image.height * scale)),
    );
  }
  return {
    width: image.width,
    height: image.height,
    channels,
    data: image.data as Uint8ClampedArray,
  };
}
