/**
 * `posenc bench lra` end to end through the CLI entry point, on tiny settings: generated ListOps
 * and Pathfinder with three rows, then the released ListOps layout from the fixtures; a second
 * invocation finds every cell done; bad settings are refused before anything is written, naming
 * the flag or the file.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchResults } from '../../run/results.js';
import { posencInProcess } from '../../testing/capture.js';
import { LRA_FIXTURES } from '../../testing/paths.js';
import type { LraConfig } from './config.js';
import { engineAndRunRoot } from '../../testing/run-root.js';

const root = engineAndRunRoot('wasm', 'posenc-lra-');

const posenc = (args: string[]) => posencInProcess(args, root());
const readResults = async (dir: string) =>
  JSON.parse(await readFile(join(root(), dir, 'results.json'), 'utf8')) as BenchResults<LraConfig>;

// The runs cost seconds of CPU, but on a loaded machine their wall time is minutes.
const RUN_TIMEOUT = 600_000;

const TINY = ['--preset', 'quick', '--steps', '6', '--batch', '4', '--train-examples', '40'];

describe('posenc bench lra, tiny run', () => {
  const args = [
    'bench',
    'lra',
    ...TINY,
    '--eval-examples',
    '24',
    '--methods',
    'listops.linear,listops.linear+spe-sine,pathfinder.softmax',
    '--out',
    'run',
  ];

  it(
    'trains and scores each row on its dataset, and reports accuracy beside the majority class',
    { timeout: RUN_TIMEOUT },
    async () => {
      const first = await posenc(args);
      expect(first.code, first.stderr).toBe(0);
      const results = await readResults('run');
      expect(results.task).toBe('lra');
      expect(results.cells.map((c) => c.method)).toEqual([
        'listops.linear',
        'listops.linear+spe-sine',
        'pathfinder.softmax',
      ]);
      const data = results.data as Record<string, { train: number; test: number; classes: number }>;
      expect(data['listops']).toMatchObject({ train: 40, test: 200, classes: 10 });
      expect(data['pathfinder']).toMatchObject({ train: 40, test: 200, classes: 2 });
      for (const c of results.cells) {
        expect(c.training.lossHistory).toHaveLength(6);
        expect(c.training.lossHistory.every(Number.isFinite)).toBe(true);
        expect(c.training.unit).toBe('examples');
        expect(c.training.units).toBe(6 * 4);
        expect(c.details).toMatchObject({ testExamples: 24 });
        // A whole number of the 24 examples scored.
        expect(
          Number.isInteger(Math.round(((c.metrics['accuracy']! * 24) / 100) * 1e6) / 1e6),
        ).toBe(true);
        expect(c.metrics['accuracy']).toBeGreaterThanOrEqual(0);
        expect(c.metrics['accuracy']).toBeLessThanOrEqual(100);
        expect(c.metrics['majority']).toBeGreaterThan(c.method.startsWith('pathfinder') ? 40 : 10);
        expect(c.metrics['eval-tokens-per-second']).toBeGreaterThan(0);
        expect(c.metrics['step-memory-mib']).toBeGreaterThan(0);
      }
      // The SPE row carries its encoding's parameters (gains, frequencies, offsets, gates).
      expect(results.cells[1]!.training.parameters).toBeGreaterThan(
        results.cells[0]!.training.parameters,
      );
      const md = await readFile(join(root(), 'run', 'report.md'), 'utf8');
      expect(md).toContain('| method | ListOps | Pathfinder | average of 2 |');
      expect(md).toMatch(/\| linear \| \**\d+\.\d\d\** \| — \| — \|/);
      expect(md).toMatch(/\| majority class \| \d+\.\d\d \| \d+\.\d\d \| \d+\.\d\d \|/);
      expect(md).toContain('| Transformer | LRA leaderboard | 36.37 | 71.40 |');
      expect(md).not.toMatch(/NaN|Infinity|undefined/);
      expect(existsSync(join(root(), 'run', 'report.html'))).toBe(true);
    },
  );

  it('finds every cell done on a second invocation', { timeout: RUN_TIMEOUT }, async () => {
    const second = await posenc(args);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('listops.linear: done in an earlier run, skipped');
    expect(second.stdout).toContain('3 cell(s) were already done');
  });
});

describe('posenc bench lra on released files', () => {
  it('reads ListOps from a folder of basic_*.tsv', { timeout: RUN_TIMEOUT }, async () => {
    const run = await posenc([
      'bench',
      'lra',
      ...TINY,
      '--tasks',
      'listops',
      '--listops',
      join(LRA_FIXTURES, 'listops'),
      '--methods',
      'listops.softmax',
      '--out',
      'released',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const results = await readResults('released');
    expect(results.data).toMatchObject({
      listops: {
        train: 4,
        test: 2,
        // The longest example, [MIN 4 [SM 8 7 1 X 5 X, is 9 tokens.
        maxLength: 9,
        source: expect.stringContaining('ListOps TSVs'),
      },
    });
    // Test labels 5 and 7: each is half of the scored examples.
    expect(results.cells[0]!.metrics['majority']).toBe(50);
  });
});

describe('posenc bench lra, bad settings', () => {
  it.each([
    [
      ['--tasks', 'listops,sudoku'],
      /--tasks: 'sudoku' is not a dataset; expected some of listops, text, retrieval, image, pathfinder/,
    ],
    [['--tasks', 'listops,listops'], /--tasks: listops,listops lists a dataset twice/],
    [
      ['--tasks', 'text'],
      /--text: the text dataset is released data; give its folder with --text DIR/,
    ],
    [['--text-length', '2000'], /--text-length/],
    [['--methods', 'listops.nope'], /listops\.nope/],
  ])('refuses %j before writing anything', async (extra, message) => {
    const out = `bad-${extra.join('-').replace(/[^a-z0-9]/gi, '')}`;
    const run = await posenc(['bench', 'lra', ...TINY, ...extra, '--out', out]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(existsSync(join(root(), out))).toBe(false);
  });

  it('names the folder of missing released data', async () => {
    const run = await posenc([
      'bench',
      'lra',
      ...TINY,
      '--tasks',
      'image',
      '--image',
      'nowhere',
      '--methods',
      'image.linear',
      '--out',
      'no-image',
    ]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`${join(root(), 'nowhere', 'data_batch_1.bin')} is missing`);
  });
});
