/**
 * Batches of a run as tensors: training images cropped (random-resized crop), flipped and
 * normalised, a pure function of (seed, step) so a resumed run sees the same batches; evaluation
 * images resized, centre-cropped and normalised at each evaluation size. Cropping and resizing go
 * through RawImage's sharp pipeline, bilinear, as one extract + resize: RawImage's crop and resize
 * are a sharp round trip each, which on small images cost more than the step itself.
 */
import { generatorFor, tf, type TrainBatch } from '@posenc/core';
import type { ImageConfig } from '../config.js';
import { centerCropPlan, randomResizedCropBox, type Box } from './crops.js';
import { asRawImage, type DecodedImage } from './decode.js';
import type { LabelledImage } from './image-data.js';

export interface ImageBatch extends TrainBatch {
  /** `[B, S, S, C]` normalised. */
  images: tf.Tensor4D;
  /** `[B]` class ids. */
  labels: tf.Tensor1D;
}

/**
 * A batch before it becomes tensors: made ahead while a step computes (sharp works on its own
 * threads), made into tensors when its step asks for it, inside that step's scope.
 */
export interface PreparedBatch {
  readonly pixels: Float32Array;
  readonly shape: [number, number, number, number];
  readonly labels: Int32Array;
}

export function asTensors(batch: PreparedBatch): ImageBatch {
  return {
    images: tf.tensor4d(batch.pixels, batch.shape),
    labels: tf.tensor1d(batch.labels, 'int32'),
  };
}

/** The crop `box` of `image`, resized to `size` × `size`: `[size·size·C]` bytes. */
async function cropResized(
  image: DecodedImage,
  box: Box,
  size: number,
): Promise<Uint8ClampedArray> {
  let pipeline = asRawImage(image).toSharp();
  if (box.left !== 0 || box.top !== 0 || box.width !== image.width || box.height !== image.height)
    pipeline = pipeline.extract(box);
  if (box.width !== size || box.height !== size)
    pipeline = pipeline.resize(size, size, { fit: 'fill', kernel: 'linear' });
  // sharp writes sRGB unless told otherwise: a grayscale image would come back with 3 channels.
  pipeline = image.channels === 1 ? pipeline.toColourspace('b-w') : pipeline.toColourspace('srgb');
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== image.channels || info.width !== size || info.height !== size)
    throw new Error(
      `image pipeline gave ${info.width}×${info.height}×${info.channels}, expected ${size}×${size}×${image.channels}`,
    );
  return new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength);
}

/** Writes (x/255 − mean) / std of `pixels` into `out` at `offset`, mirrored when `flip`. */
function normalise(
  pixels: Uint8ClampedArray,
  size: number,
  config: Pick<ImageConfig, 'channels' | 'mean' | 'std'>,
  flip: boolean,
  out: Float32Array,
  offset: number,
): void {
  const c = config.channels;
  for (let r = 0; r < size; r++)
    for (let col = 0; col < size; col++) {
      const src = (r * size + (flip ? size - 1 - col : col)) * c;
      const dst = offset + (r * size + col) * c;
      for (let ch = 0; ch < c; ch++)
        out[dst + ch] = (pixels[src + ch]! / 255 - config.mean[ch]!) / config.std[ch]!;
    }
}

/** The images at `indices` (of the training set, one pass over it per epoch in a seeded order). */
export function trainingIndices(
  count: number,
  batch: number,
  seed: number,
  step: number,
): number[] {
  const indices: number[] = [];
  for (let k = 0; k < batch; k++) {
    const position = step * batch + k;
    const epoch = Math.floor(position / count);
    indices.push(epochOrder(count, seed, epoch)[position % count]!);
  }
  return indices;
}

const orders = new Map<string, Int32Array>();

/** A seeded permutation of the training set for one epoch (kept for the few epochs in use). */
function epochOrder(count: number, seed: number, epoch: number): Int32Array {
  const key = `${count}:${seed}:${epoch}`;
  let order = orders.get(key);
  if (!order) {
    order = Int32Array.from({ length: count }, (_, i) => i);
    const random = generatorFor(seed, epoch, 1);
    for (let i = count - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    if (orders.size > 8) orders.clear();
    orders.set(key, order);
  }
  return order;
}

export async function trainingBatch(
  images: readonly LabelledImage[],
  config: ImageConfig,
  seed: number,
  step: number,
): Promise<PreparedBatch> {
  const { batch, imageSize: size, channels } = config;
  const indices = trainingIndices(images.length, batch, seed, step);
  const random = generatorFor(seed, step, 2);
  // Crops and flips drawn in order before any await: the draws do not depend on timing.
  const plans = indices.map((i) => {
    const { image } = images[i]!;
    return {
      image,
      box: randomResizedCropBox(image.width, image.height, config.cropScale, random),
      flip: config.flip && random() < 0.5,
    };
  });
  const pixels = await Promise.all(plans.map((p) => cropResized(p.image, p.box, size)));
  const out = new Float32Array(batch * size * size * channels);
  pixels.forEach((p, k) =>
    normalise(p, size, config, plans[k]!.flip, out, k * size * size * channels),
  );
  return {
    pixels: out,
    shape: [batch, size, size, channels],
    labels: Int32Array.from(indices, (i) => images[i]!.label),
  };
}

/** Evaluation images `[from, from + count)` at `size`: resized, centre-cropped, normalised. */
export async function evaluationBatch(
  images: readonly LabelledImage[],
  config: ImageConfig,
  size: number,
  from: number,
  count: number,
): Promise<PreparedBatch> {
  const { channels } = config;
  const chosen = images.slice(from, from + count);
  const pixels = await Promise.all(
    chosen.map(async ({ image }) => {
      const plan = centerCropPlan(image.width, image.height, size, config.evalCrop);
      let raw = asRawImage(image);
      if (raw.width !== plan.resized.width || raw.height !== plan.resized.height)
        raw = await raw.resize(plan.resized.width, plan.resized.height);
      return cropResized(
        { width: raw.width, height: raw.height, channels, data: raw.data as Uint8ClampedArray },
        plan.box,
        size,
      );
    }),
  );
  const out = new Float32Array(chosen.length * size * size * channels);
  pixels.forEach((p, k) => normalise(p, size, config, false, out, k * size * size * channels));
  return {
    pixels: out,
    shape: [chosen.length, size, size, channels],
    labels: Int32Array.from(chosen, (x) => x.label),
  };
}
