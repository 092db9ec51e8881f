/**
 * The default preset's Pathfinder is learnable: for two sessions every row of it scored exactly
 * 50% (a dead classifier head, then images too hard for the budget), and nothing failed. One row
 * trained as the default trains it, on the engine users get, must beat chance by far (99.2% when
 * measured on 2026-12-03; a model that learns nothing scores 50%). About 30 s of training.
 */
import { initEngine } from '@posenc/core';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BenchResults } from '../../run/results.js';
import { posencInProcess } from '../../testing/capture.js';
import type { LraConfig } from './config.js';

let root: string;
beforeAll(async () => {
  await initEngine({ engine: 'kernels', log: null });
  root = await mkdtemp(join(tmpdir(), 'posenc-lra-default-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

it(
  "the default's Pathfinder: softmax + RoPE scores far above chance",
  { timeout: 900_000 },
  async () => {
    const run = await posencInProcess(
      [
        'bench',
        'lra',
        '--preset',
        'default',
        '--tasks',
        'pathfinder',
        '--methods',
        'pathfinder.softmax+rope',
        '--out',
        'run',
      ],
      root,
    );
    expect(run.code, run.stderr).toBe(0);
    const results = JSON.parse(
      await readFile(join(root, 'run', 'results.json'), 'utf8'),
    ) as BenchResults<LraConfig>;
    const [cell] = results.cells;
    expect(cell!.metrics['majority']).toBeCloseTo(50, 6);
    expect(cell!.metrics['accuracy']).toBeGreaterThan(80);
  },
);
