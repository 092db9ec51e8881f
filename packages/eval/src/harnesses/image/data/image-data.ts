/**
 * The data of an image run, loaded from its config alone: the folder's listing, the subsets the
 * run uses (the first images of a fixed shuffle, the same for every seed and method), and every
 * image decoded once and kept in memory at the size the run needs. An image the decoder rejects
 * is skipped with a warning that names it, and counted in the report.
 */
import { mulberry32 } from '@posenc/core';
import { UsageError } from '../../../usage-error.js';
import { largestSize, type ImageConfig } from '../config.js';
import { decodeImage, type DecodedImage } from './decode.js';
import { scanImageFolder, type ImageFile } from './image-folder.js';
import { MNIST_DESCRIPTION, mnistImageFolder } from './mnist-folder.js';

export interface LabelledImage {
  readonly name: string;
  readonly label: number;
  readonly image: DecodedImage;
}

export interface SkippedImage {
  readonly name: string;
  readonly reason: string;
}

export interface ImageData {
  readonly description: string;
  readonly root: string;
  readonly classes: string[];
  readonly train: LabelledImage[];
  readonly val: LabelledImage[];
  readonly skipped: SkippedImage[];
  /** Images in the folder before the subsets were taken. */
  readonly available: { train: number; val: number };
  readonly valLabelling: string;
}

/** Images decoded at once (sharp runs them on its thread pool). */
const DECODE_CONCURRENCY = 16;

/** The first `limit` of the files in a fixed shuffle (seed 0, whatever the cell's seed). */
export function subset(files: readonly ImageFile[], limit: number | 'all'): ImageFile[] {
  if (limit === 'all' || limit >= files.length) return [...files];
  const order = files.map((_, i) => i);
  const random = mulberry32(0x5eed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, limit).map((i) => files[i]!);
}

/** Shorter side images are kept at: what the largest evaluation resizes to before its crop. */
export function keptSide(config: ImageConfig): number {
  return Math.ceil(largestSize(config) / config.evalCrop);
}

async function decodeAll(
  files: readonly ImageFile[],
  config: ImageConfig,
  skipped: SkippedImage[],
): Promise<LabelledImage[]> {
  const out: (LabelledImage | undefined)[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const file = files[i]!;
      const decoded = await decodeImage(file.path, config.channels, keptSide(config));
      if ('error' in decoded) skipped.push({ name: file.name, reason: decoded.error });
      else out[i] = { name: file.name, label: file.label, image: decoded };
    }
  };
  await Promise.all(Array.from({ length: DECODE_CONCURRENCY }, worker));
  return out.filter((x): x is LabelledImage => x !== undefined);
}

export async function loadImageData(config: ImageConfig): Promise<ImageData> {
  const mnist = config.data === 'mnist';
  const root = mnist ? await mnistImageFolder() : config.data;
  const folder = await scanImageFolder(root, config.valLabels);
  const skipped: SkippedImage[] = [];
  const train = await decodeAll(subset(folder.train, config.trainImages), config, skipped);
  const val = await decodeAll(subset(folder.val, config.evalImages), config, skipped);
  skipped.sort((a, b) => a.name.localeCompare(b.name));
  for (const [split, images] of [
    ['train', train],
    ['val', val],
  ] as const)
    if (images.length === 0)
      throw new UsageError(
        `--data ${root}: no readable image in ${split}/ (${skipped.length} could not be decoded)`,
      );
  return {
    description: mnist ? MNIST_DESCRIPTION : `ImageFolder ${root}`,
    root,
    classes: folder.classes,
    train,
    val,
    skipped,
    available: { train: folder.train.length, val: folder.val.length },
    valLabelling: folder.valLabelling,
  };
}

/** What results.json records of the data. */
export function imageDataFacts(data: ImageData) {
  return {
    description: data.description,
    root: data.root,
    classes: data.classes.length,
    train: data.train.length,
    val: data.val.length,
    available: data.available,
    valLabelling: data.valLabelling,
    skipped: data.skipped,
  };
}

export type ImageDataFacts = ReturnType<typeof imageDataFacts>;
