/**
 * The ImageNet folder layout, and any ImageFolder laid out the same way: `train/<class>/<image>`
 * with one folder per class (`n01440764/…JPEG`), and `val/` either with the same class folders
 * or flat with a label file. Classes are the train folders' names, sorted (torchvision's
 * ImageFolder order, so class i is the i-th wnid). A missing or empty folder is a usage error
 * that names it; nothing is read yet but the listing.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join, relative } from 'node:path';
import { UsageError } from '../../../usage-error.js';

/** torchvision's IMG_EXTENSIONS, compared case-insensitively. */
export const IMAGE_EXTENSIONS = [
  '.jpg',
  '.jpeg',
  '.png',
  '.ppm',
  '.bmp',
  '.pgm',
  '.tif',
  '.tiff',
  '.webp',
];

export interface ImageFile {
  /** Absolute path. */
  readonly path: string;
  /** Path relative to the data folder, for messages and reports. */
  readonly name: string;
  readonly label: number;
}

export interface ImageFolder {
  readonly root: string;
  readonly classes: string[];
  readonly train: ImageFile[];
  readonly val: ImageFile[];
  /** How `val/` was labelled. */
  readonly valLabelling: 'class folders' | 'label file';
}

const isImage = (name: string) =>
  !name.startsWith('.') && IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function subfolders(path: string): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

/** The images of one class folder, sorted; an empty one is an error naming it. */
async function classImages(root: string, folder: string, label: number): Promise<ImageFile[]> {
  const names = (await readdir(folder, { withFileTypes: true }))
    .filter((e) => e.isFile() && isImage(e.name))
    .map((e) => e.name)
    .sort();
  if (names.length === 0)
    throw new UsageError(
      `--data ${root}: class folder ${relative(root, folder)} holds no image (${IMAGE_EXTENSIONS.join(' ')}); remove it or add its images`,
    );
  return names.map((n) => {
    const path = join(folder, n);
    return { path, name: relative(root, path), label };
  });
}

/**
 * Lines `<file> <class>` (class: a train folder's name or its index) or ImageNet's
 * `LOC_val_solution.csv` (`ImageId,PredictionString`, the class its first word).
 */
async function labelFile(path: string, classes: readonly string[]): Promise<Map<string, number>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UsageError(`--val-labels ${path}: file not found`);
  }
  const labels = new Map<string, number>();
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  lines.forEach((line, i) => {
    if (i === 0 && /^ImageId,PredictionString/i.test(line)) return;
    const [file, klass] = line.includes(',')
      ? [line.split(',')[0]!, line.split(',')[1]!.trim().split(/\s+/)[0]!]
      : line.trim().split(/\s+/);
    const index = /^\d+$/.test(klass ?? '') ? Number(klass) : classes.indexOf(klass ?? '');
    if (!file || index < 0 || index >= classes.length)
      throw new UsageError(
        `--val-labels ${path}: line ${i + 1} (${JSON.stringify(line.slice(0, 80))}) does not name an image and one of the ${classes.length} train classes (a folder name or an index)`,
      );
    labels.set(basename(file, extname(file)), index);
  });
  if (labels.size === 0) throw new UsageError(`--val-labels ${path}: no labels in the file`);
  return labels;
}

export async function scanImageFolder(root: string, valLabels: string): Promise<ImageFolder> {
  if (!(await isFolder(root))) throw new UsageError(`--data ${root}: folder not found`);
  const layout =
    'expected the ImageNet layout: train/<class>/<images>, and val/<class>/<images> or a flat val/ with --val-labels';
  const trainRoot = join(root, 'train');
  const valRoot = join(root, 'val');
  for (const [what, path] of [
    ['train/', trainRoot],
    ['val/', valRoot],
  ] as const)
    if (!(await isFolder(path)))
      throw new UsageError(`--data ${root}: no ${what} folder (${layout})`);
  const classes = await subfolders(trainRoot);
  if (classes.length < 2)
    throw new UsageError(
      `--data ${root}: train/ has ${classes.length} class folder(s); a classification task needs at least 2 (${layout})`,
    );
  const train = (
    await Promise.all(classes.map((c, i) => classImages(root, join(trainRoot, c), i)))
  ).flat();
  const valClasses = await subfolders(valRoot);
  if (valLabels === '') {
    if (valClasses.length === 0)
      throw new UsageError(
        `--data ${root}: val/ has no class folders; give --val-labels FILE for a flat val/ (${layout})`,
      );
    const unknown = valClasses.find((c) => !classes.includes(c));
    if (unknown !== undefined)
      throw new UsageError(
        `--data ${root}: val/${unknown} is not one of the train classes (train/ has ${classes.length})`,
      );
    const val = (
      await Promise.all(
        valClasses.map((c) => classImages(root, join(valRoot, c), classes.indexOf(c))),
      )
    ).flat();
    return { root, classes, train, val, valLabelling: 'class folders' };
  }
  const labels = await labelFile(valLabels, classes);
  const files = (await readdir(valRoot)).filter(isImage).sort();
  const val: ImageFile[] = files.map((n) => {
    const label = labels.get(basename(n, extname(n)));
    if (label === undefined)
      throw new UsageError(`--val-labels ${valLabels}: no label for val/${n}`);
    return { path: join(valRoot, n), name: join('val', n), label };
  });
  if (val.length === 0) throw new UsageError(`--data ${root}: val/ holds no image`);
  return { root, classes, train, val, valLabelling: 'label file' };
}
