/**
 * `posenc bench image` end to end through the CLI entry point on a small ImageFolder with one
 * undecodable file: the three outputs, with finite figures, the skipped file named in the
 * warnings and the report; a missing folder and an empty class folder exit 2 with one line
 * naming them, before anything is written.
 */
import { initEngine } from '@posenc/core';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchResults } from '../../run/results.js';
import { posencInProcess } from '../../testing/capture.js';
import type { ImageConfig } from './config.js';
import type { ImageDetails } from './evaluate.js';
import { writeCorruptImage, writeImageFolder } from './testing/image-folder-fixture.js';

let root: string;
beforeAll(async () => {
  await initEngine({ engine: 'wasm', log: null });
  root = await mkdtemp(join(tmpdir(), 'posenc-image-run-'));
  await writeImageFolder(join(root, 'images'), { classes: 3, perClass: { train: 8, val: 4 } });
  await writeCorruptImage(join(root, 'images', 'val', 'class2', 'truncated.png'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const posenc = (args: string[]) => posencInProcess(args, root);

const TINY = ['--preset', 'quick', '--image-size', '8', '--eval-sizes', '8,12', '--patch', '4'];
const MODEL = ['--dim', '16', '--layers', '1', '--heads', '2', '--steps', '6', '--batch', '6'];

describe('posenc bench image, tiny run', () => {
  it('writes results.json, report.md and report.html; the undecodable file is skipped, named and counted', async () => {
    const run = await posenc([
      'bench',
      'image',
      ...TINY,
      ...MODEL,
      '--data',
      'images',
      '--methods',
      'none,irpe,sinusoidal',
      '--out',
      'run',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const dir = join(root, 'run');
    const results = JSON.parse(
      await readFile(join(dir, 'results.json'), 'utf8'),
    ) as BenchResults<ImageConfig>;
    expect(results.format).toBe('posenc-bench/image/1');
    expect(results.cells.map((c) => c.method)).toEqual(['none', 'irpe', 'sinusoidal']);
    expect(results.config.evalSizes).toEqual([8, 12]);
    const skippedName = join('val', 'class2', 'truncated.png');
    expect(results.warnings).toEqual([expect.stringContaining(`skipped the image ${skippedName}`)]);
    expect(results.data as { skipped: unknown[]; train: number; val: number }).toMatchObject({
      train: 24,
      val: 12,
    });
    for (const c of results.cells) {
      expect(c.training.unit).toBe('images');
      expect(c.training.units).toBe(6 * 6);
      for (const key of ['top1@8', 'top5@8', 'top1@12', 'top5@12', 'eval-images-per-second'])
        expect(Number.isFinite(c.metrics[key]), `${c.method} ${key}`).toBe(true);
      expect(c.metrics['top5@8']).toBe(100); // 3 classes: the top 3 always hold the label
    }
    const irpe = results.cells.find((c) => c.method === 'irpe')!;
    expect((irpe.details as unknown as ImageDetails).buckets).toEqual([50]);
    expect(irpe.notes.join(' ')).toMatch(/learned absolute encoding beside it/);
    const md = await readFile(join(dir, 'report.md'), 'utf8');
    for (const heading of [
      '## Top-1 accuracy',
      '## Top-5 accuracy',
      '## Cost',
      "## The paper's reference",
      '## Images skipped',
    ])
      expect(md).toContain(heading);
    expect(md).toContain(skippedName);
    expect(md).toContain('79.9');
    expect(await readFile(join(dir, 'report.html'), 'utf8')).toContain('<svg');
  });

  it('a missing data folder and an empty class folder exit 2 naming them, writing nothing', async () => {
    const missing = await posenc([
      'bench',
      'image',
      ...TINY,
      '--data',
      'nowhere',
      '--out',
      'missing',
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe(`posenc: --data ${join(root, 'nowhere')}: folder not found`);
    await writeImageFolder(join(root, 'gap'));
    await mkdir(join(root, 'gap', 'train', 'class7'));
    const empty = await posenc(['bench', 'image', ...TINY, '--data', 'gap', '--out', 'empty']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/class folder train\/class7 holds no image/);
    expect(existsSync(join(root, 'missing'))).toBe(false);
    expect(existsSync(join(root, 'empty'))).toBe(false);
  });
});
