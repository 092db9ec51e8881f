/**
 * The image harness's data: the ImageNet folder layout read with its labels, undecodable files
 * skipped with a warning that names them and counted, and each folder mistake a usage error that
 * names the folder; crops as torchvision places them.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../usage-error.js';
import { IMAGE_PRESETS } from '../presets.js';
import type { ImageConfig } from '../config.js';
import { writeCorruptImage, writeImageFolder } from '../testing/image-folder-fixture.js';
import { centerCropPlan, randomResizedCropBox } from './crops.js';
import { loadImageData } from './image-data.js';
import { scanImageFolder } from './image-folder.js';
import { mulberry32 } from '@posenc/core';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'posenc-images-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const config = (data: string, valLabels = ''): ImageConfig => ({
  ...IMAGE_PRESETS['quick']!.config,
  data,
  valLabels,
  imageSize: 8,
  evalSizes: [8],
  trainImages: 'all',
  evalImages: 'all',
});

describe('an ImageFolder', () => {
  it('gives classes in sorted folder order, labels by folder, and decodes every image', async () => {
    const dir = join(root, 'good');
    await writeImageFolder(dir, { classes: 3 });
    const folder = await scanImageFolder(dir, '');
    expect(folder.classes).toEqual(['class0', 'class1', 'class2']);
    expect(folder.train).toHaveLength(18);
    expect(folder.train[7]!).toMatchObject({ name: join('train', 'class1', '1.png'), label: 1 });
    const data = await loadImageData(config(dir));
    expect([data.train.length, data.val.length, data.skipped.length]).toEqual([18, 9, 0]);
    // Kept at the largest size the run evaluates at (8px), not the files' 12px.
    expect(data.train[0]!.image).toMatchObject({ width: 8, height: 8, channels: 1 });
  });

  it('skips an image that cannot be decoded, naming it, and counts it', async () => {
    const dir = join(root, 'corrupt');
    await writeImageFolder(dir);
    await writeCorruptImage(join(dir, 'train', 'class1', 'broken.png'));
    const data = await loadImageData(config(dir));
    expect(data.train).toHaveLength(12);
    expect(data.skipped).toHaveLength(1);
    expect(data.skipped[0]!.name).toBe(join('train', 'class1', 'broken.png'));
    expect(data.skipped[0]!.reason).toMatch(/unsupported image format/i);
  });

  it('reads a flat val/ with a label file of class names or indices, or LOC_val_solution.csv', async () => {
    const dir = join(root, 'flat');
    await writeImageFolder(dir, { perClass: { train: 2, val: 0 } });
    await rm(join(dir, 'val'), { recursive: true });
    await mkdir(join(dir, 'val'));
    await writeImageFolder(join(root, 'flat-source'), { perClass: { train: 0, val: 2 } });
    const { copyFile } = await import('node:fs/promises');
    for (const [c, i, name] of [
      [0, 0, 'ILSVRC2012_val_00000001.png'],
      [1, 1, 'ILSVRC2012_val_00000002.png'],
    ] as const)
      await copyFile(
        join(root, 'flat-source', 'val', `class${c}`, `${i}.png`),
        join(dir, 'val', name),
      );
    const labels = join(root, 'labels.txt');
    await writeFile(labels, 'ILSVRC2012_val_00000001.png class0\nILSVRC2012_val_00000002.JPEG 1\n');
    const folder = await scanImageFolder(dir, labels);
    expect(folder.valLabelling).toBe('label file');
    expect(folder.val.map((f) => f.label)).toEqual([0, 1]);
    const csv = join(root, 'LOC_val_solution.csv');
    await writeFile(
      csv,
      'ImageId,PredictionString\nILSVRC2012_val_00000002,class1 1 2 3 4\nILSVRC2012_val_00000001,class0 5 6 7 8\n',
    );
    expect((await scanImageFolder(dir, csv)).val.map((f) => f.label)).toEqual([0, 1]);
    await expect(scanImageFolder(dir, '')).rejects.toThrow(
      /val\/ has no class folders; give --val-labels/,
    );
    await writeFile(labels, 'ILSVRC2012_val_00000001.png n99999999\n');
    await expect(scanImageFolder(dir, labels)).rejects.toThrow(
      /line 1 .* does not name an image and one of the 2 train classes/,
    );
  });

  it('refuses a missing folder, a missing train/ and an empty class folder, naming them', async () => {
    const missing = join(root, 'nowhere');
    await expect(scanImageFolder(missing, '')).rejects.toThrow(
      new UsageError(`--data ${missing}: folder not found`),
    );
    const noTrain = join(root, 'no-train');
    await mkdir(join(noTrain, 'val'), { recursive: true });
    await expect(scanImageFolder(noTrain, '')).rejects.toThrow(
      /no train\/ folder \(expected the ImageNet layout/,
    );
    const empty = join(root, 'empty-class');
    await writeImageFolder(empty);
    await mkdir(join(empty, 'train', 'class9'));
    await expect(scanImageFolder(empty, '')).rejects.toThrow(
      new RegExp(`class folder ${join('train', 'class9')} holds no image`),
    );
  });
});

describe('crops', () => {
  it('random-resized crops stay inside the image and cover at least the minimum share, seeded', () => {
    const random = mulberry32(3);
    for (let i = 0; i < 200; i++) {
      const [w, h] = [20 + (i % 13), 30 - (i % 7)];
      const box = randomResizedCropBox(w, h, 0.3, random);
      expect(box.left).toBeGreaterThanOrEqual(0);
      expect(box.top).toBeGreaterThanOrEqual(0);
      expect(box.left + box.width).toBeLessThanOrEqual(w);
      expect(box.top + box.height).toBeLessThanOrEqual(h);
      expect(box.width * box.height).toBeGreaterThan(0.2 * w * h);
    }
    const again = (seed: number) => randomResizedCropBox(28, 28, 0.08, mulberry32(seed));
    expect(again(5)).toEqual(again(5));
    // No try fits a 1-pixel-high strip: the fallback is the centre crop of the widest allowed aspect.
    expect(randomResizedCropBox(100, 1, 0.9, mulberry32(1))).toEqual({
      left: 49,
      top: 0,
      width: 1,
      height: 1,
    });
  });

  it("the evaluation crop is DeiT's: shorter side to size / 0.875, then the centre", () => {
    expect(centerCropPlan(500, 375, 224, 0.875)).toEqual({
      resized: { width: 341, height: 256 },
      box: { left: 58, top: 16, width: 224, height: 224 },
    });
    expect(centerCropPlan(28, 28, 44, 1)).toEqual({
      resized: { width: 44, height: 44 },
      box: { left: 0, top: 0, width: 44, height: 44 },
    });
  });
});
