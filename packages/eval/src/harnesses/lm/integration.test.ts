/**
 * A tiny run end to end through the CLI entry point: two methods, 30 steps, all three outputs
 * with finite figures; a second invocation of the same command finds every cell done; two seeds
 * give tables of mean ± std and charts with error bars.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchResults } from '../../run/results.js';
import { posencInProcess } from '../../testing/capture.js';
import { TINY_RUN_ARGS } from '../../testing/tiny-run.js';
import type { LMConfig } from './config.js';
import type { LMDetails } from './evaluate.js';
import { engineAndRunRoot } from '../../testing/run-root.js';

const root = engineAndRunRoot('wasm', 'posenc-integration-');

const posenc = (args: string[]) => posencInProcess(args, root());

const readResults = async (dir: string) =>
  JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as BenchResults<LMConfig>;

describe('posenc bench lm, tiny run', () => {
  const args = [
    'bench',
    'lm',
    ...TINY_RUN_ARGS,
    '--methods',
    'alibi,sinusoidal',
    '--steps',
    '30',
    '--out',
    'run',
  ];

  it('writes results.json, report.md and report.html with finite figures', async () => {
    const first = await posenc(args);
    expect(first.code, first.stderr).toBe(0);
    const dir = join(root(), 'run');
    const results = await readResults(dir);
    expect(results.format).toBe('posenc-bench/lm/3');
    expect(results.task).toBe('lm');
    expect(results.seeds).toEqual([0]);
    expect(results.cells.map((c) => `${c.method}/${c.seed}`)).toEqual(['alibi/0', 'sinusoidal/0']);
    expect(results.config).toMatchObject({
      trainLength: 16,
      evalLengths: [16, 32],
      steps: 30,
      corpus: 'sotu',
      tokenizer: 'bytes',
    });
    expect(results.engine.engine).toBe('wasm');
    expect(results.versions['@posenc/core']).toMatch(/^\d+\.\d+\.\d+/);
    const evaluation = (results.data as { evaluation: { targets: number } }).evaluation;
    for (const c of results.cells) {
      expect(c.training.lossHistory).toHaveLength(30);
      expect(c.training.lossHistory.every(Number.isFinite)).toBe(true);
      expect(c.training.unit).toBe('tokens');
      expect(c.training.units).toBe(30 * 4 * 16);
      expect(c.training.unitsPerSecond).toBeGreaterThan(0);
      const evaluations = (c.details as unknown as LMDetails).evaluations;
      expect(evaluations.map((e) => `${e.mode}@${e.length}`)).toEqual([
        'nonoverlapping@16',
        'sliding@16',
        // Sliding windows are scored up to L only (evaluate.ts, scoredAt).
        'nonoverlapping@32',
      ]);
      for (const e of evaluations) {
        expect(c.metrics[`${e.mode}@${e.length}`]).toBe(e.perplexity);
        expect(e.perplexity).toBeGreaterThan(1);
        // Every evaluation scores the same tokens.
        expect(e.tokens).toBe(evaluation.targets);
        // Far below the 256 of a uniform guess after 30 steps.
        expect(e.perplexity).toBeLessThan(256);
      }
    }
    const md = await readFile(join(dir, 'report.md'), 'utf8');
    expect(md).toMatch(/\| method \| n \| 16 \(= L\) \| 32 \|/);
    expect(md).toMatch(/\| alibi \| 1 \| \**\d+\.\d\d\**/);
    expect(md).toMatch(/\| method \| n \| 16 \(= L\) \|\n/);
    expect(md).toContain('n/a at 32 (past L = 16) for every method: past L a sliding window');
    expect(md).not.toMatch(/NaN|Infinity|undefined/);
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    // Nonoverlapping perplexity and training loss; the sliding mode has one length, no chart.
    expect((html.match(/<svg/g) ?? []).length).toBe(2);
    expect(html).not.toMatch(/NaN|undefined/);
    expect(first.stdout).toContain('| alibi | 1 |');
  });

  it('finds every cell done on a second invocation and keeps their records', async () => {
    const dir = join(root(), 'run');
    const record = join(dir, 'cells', 'alibi', 'seed-0', 'result.json');
    const before = await readFile(record, 'utf8');
    const mtime = (await stat(record)).mtimeMs;
    const second = await posenc(args);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('alibi: done in an earlier run, skipped');
    expect(second.stderr).toContain('sinusoidal: done in an earlier run, skipped');
    expect(second.stderr).not.toMatch(/step \d+\/30/);
    expect(second.stdout).toContain('2 cell(s) were already done');
    expect(await readFile(record, 'utf8')).toBe(before);
    expect((await stat(record)).mtimeMs).toBe(mtime);
    const results = await readResults(dir);
    expect(results.cells.map((c) => c.finishedAt)).toEqual(
      await Promise.all(
        ['alibi', 'sinusoidal'].map(
          async (m) =>
            JSON.parse(await readFile(join(dir, 'cells', m, 'seed-0', 'result.json'), 'utf8'))
              .finishedAt,
        ),
      ),
    );
  });

  it('adds a seed to the finished run, training only the new cells', async () => {
    const more = await posenc([...args, '--seeds', '0,1']);
    expect(more.code, more.stderr).toBe(0);
    expect(more.stderr).toContain('alibi/seed-0: done in an earlier run, skipped');
    expect(more.stderr).toMatch(/alibi\/seed-1 +step 30\/30/);
    const results = await readResults(join(root(), 'run'));
    expect(results.seeds).toEqual([0, 1]);
    expect(results.cells.map((c) => `${c.method}/${c.seed}`)).toEqual([
      'alibi/0',
      'alibi/1',
      'sinusoidal/0',
      'sinusoidal/1',
    ]);
    // Another seed, another initialisation and data order.
    expect(results.cells[1]!.training.lossHistory).not.toEqual(
      results.cells[0]!.training.lossHistory,
    );
    const md = await readFile(join(root(), 'run', 'report.md'), 'utf8');
    expect(md).toMatch(/\| alibi \| 2 \| \**\d+\.\d\d ± \d+\.\d\d\**/);
    expect(md).toContain('mean ± sample standard deviation over the seeds');
    const html = await readFile(join(root(), 'run', 'report.html'), 'utf8');
    // Error bars: one rule per method and length in the perplexity chart (nonoverlapping; the
    // sliding mode has one length here, L, and no chart).
    const bars = [...html.matchAll(/<g class="mark-rule role-mark spread[^"]*"[^>]*>(.*?)<\/g>/gs)];
    expect(bars).toHaveLength(1);
    for (const [, marks] of bars) expect((marks!.match(/<line/g) ?? []).length).toBe(2 * 2);
    expect(html).toContain('Bars: ± one sample standard deviation over seeds');
  });

  it('refuses to mix other settings into the run folder', async () => {
    const other = await posenc([...args, '--lr', '0.001']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/^posenc: --out run holds a run with other settings/m);
  });
});
