/**
 * A sweep over every LRA method (as timm's tests sweep every registered model): each row trains
 * a few steps on tiny generated ListOps and is scored, on one engine, through the CLI. It caught
 * convSPE failing on the wasm-hosted engines, whose TF.js backend has no gradient kernel for the
 * depthwise convolution; a method that cannot train on an engine users get fails here.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { EngineName } from '@posenc/core';
import type { BenchResults } from '../run/results.js';
import { posencInProcess } from './capture.js';
import { engineAndRunRoot } from './run-root.js';
import type { LraConfig } from '../harnesses/lra/config.js';
import { LRA_METHODS } from '../harnesses/lra/methods/rows.js';

export function sweepEveryLraMethod(engine: EngineName): void {
  const root = engineAndRunRoot(engine, `posenc-lra-sweep-${engine}-`);
  const methods = LRA_METHODS.map((m) => `listops.${m.name}`);
  it(
    `every LRA method trains and is scored on the ${engine} engine`,
    { timeout: 900_000 },
    async () => {
      const run = await posencInProcess(
        [
          'bench',
          'lra',
          '--preset',
          'quick',
          '--tasks',
          'listops',
          '--steps',
          '3',
          '--batch',
          '2',
          '--train-examples',
          '10',
          '--eval-examples',
          '4',
          '--methods',
          methods.join(','),
          '--out',
          'run',
        ],
        root(),
      );
      expect(run.code, run.stderr).toBe(0);
      const results = JSON.parse(
        await readFile(join(root(), 'run', 'results.json'), 'utf8'),
      ) as BenchResults<LraConfig>;
      expect(results.cells.map((c) => c.method)).toEqual(methods);
      for (const c of results.cells) {
        expect(c.training.lossHistory, c.method).toHaveLength(3);
        expect(c.training.lossHistory.every(Number.isFinite), c.method).toBe(true);
        expect(c.metrics['accuracy'], c.method).toBeGreaterThanOrEqual(0);
      }
    },
  );
}
