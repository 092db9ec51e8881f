/**
 * The default preset's Pathfinder is learnable: for two sessions every row of it scored exactly
 * 50% (a dead classifier head, then images too hard for the budget), and nothing failed. One row
 * trained as the default trains it, on the engine users get, must beat chance by far (99.2% when
 * measured on 2026-12-03; a model that learns nothing scores 50%). About 30 s of training.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { BenchResults } from '../../run/results.js';
import { posencInProcess } from '../../testing/capture.js';
import type { LraConfig } from './config.js';
import { engineAndRunRoot } from '../../testing/run-root.js';

const root = engineAndRunRoot('kernels', 'posenc-lra-default-');

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
      root(),
    );
    expect(run.code, run.stderr).toBe(0);
    const results = JSON.parse(
      await readFile(join(root(), 'run', 'results.json'), 'utf8'),
    ) as BenchResults<LraConfig>;
    const [cell] = results.cells;
    expect(cell!.metrics['majority']).toBeCloseTo(50, 6);
    expect(cell!.metrics['accuracy']).toBeGreaterThan(80);
  },
);
