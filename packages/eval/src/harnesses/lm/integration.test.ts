/**
 * A tiny run end to end through the CLI entry point: two methods, 30 steps, all three outputs
 * with finite figures; a second invocation of the same command finds both methods done.
 */
import { initEngine } from '@posenc/core';
import { readFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../cli/main.js';
import { CapturedStream } from '../testing/capture.js';
import { WIKITEXT_FIXTURE, WORD_TOKENIZER_FIXTURE } from '../testing/paths.js';
import { TINY_RUN_ARGS } from '../testing/tiny-run.js';
import type { BenchResults } from './results.js';

let root: string;
beforeAll(async () => {
  await initEngine({ engine: 'wasm', log: null });
  root = await mkdtemp(join(tmpdir(), 'posenc-integration-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function posenc(args: string[]) {
  const stdout = new CapturedStream();
  const stderr = new CapturedStream();
  const code = await main(args, { stdout, stderr, baseDir: root });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

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
    const dir = join(root, 'run');
    const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as BenchResults;
    expect(results.methods.map((m) => m.method)).toEqual(['alibi', 'sinusoidal']);
    expect(results.config).toMatchObject({
      trainLength: 16,
      evalLengths: [16, 32],
      steps: 30,
      corpus: 'sotu',
      tokenizer: 'bytes',
    });
    expect(results.engine.engine).toBe('wasm');
    expect(results.versions['@posenc/core']).toMatch(/^\d+\.\d+\.\d+/);
    for (const m of results.methods) {
      expect(m.training.lossHistory).toHaveLength(30);
      expect(m.training.lossHistory.every(Number.isFinite)).toBe(true);
      expect(m.training.tokensPerSecond).toBeGreaterThan(0);
      expect(m.training.wallMs).toBeGreaterThan(0);
      expect(m.evaluations.map((e) => `${e.mode}@${e.length}`)).toEqual([
        'nonoverlapping@16',
        'sliding@16',
        'nonoverlapping@32',
        'sliding@32',
      ]);
      for (const e of m.evaluations) {
        expect(Number.isFinite(e.perplexity)).toBe(true);
        expect(e.perplexity).toBeGreaterThan(1);
        // Every evaluation scores the same tokens.
        expect(e.tokens).toBe(results.evaluation.targets);
        // Far below the 256 of a uniform guess after 30 steps.
        expect(e.perplexity).toBeLessThan(256);
      }
    }
    const md = await readFile(join(dir, 'report.md'), 'utf8');
    expect(md).toMatch(/\| method \| 16 \(= L\) \| 32 \|/);
    expect(md).toMatch(/\| alibi \| \**\d+\.\d\d\**/);
    expect(md).not.toMatch(/NaN|Infinity|undefined/);
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect((html.match(/<svg/g) ?? []).length).toBe(3);
    expect(html).not.toMatch(/NaN|undefined/);
    expect(first.stdout).toContain('| alibi |');
  });

  it('finds both methods done on a second invocation and keeps their records', async () => {
    const dir = join(root, 'run');
    const record = join(dir, 'methods', 'alibi', 'result.json');
    const before = await readFile(record, 'utf8');
    const mtime = (await stat(record)).mtimeMs;
    const second = await posenc(args);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('alibi: done in an earlier run, skipped');
    expect(second.stderr).toContain('sinusoidal: done in an earlier run, skipped');
    expect(second.stderr).not.toMatch(/step \d+\/30/);
    expect(second.stdout).toContain('2 method(s) were already done');
    expect(await readFile(record, 'utf8')).toBe(before);
    expect((await stat(record)).mtimeMs).toBe(mtime);
    const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as BenchResults;
    expect(results.methods.map((m) => m.finishedAt)).toEqual(
      await Promise.all(
        ['alibi', 'sinusoidal'].map(
          async (m) =>
            JSON.parse(await readFile(join(dir, 'methods', m, 'result.json'), 'utf8')).finishedAt,
        ),
      ),
    );
  });

  it('refuses to mix other settings into the run folder', async () => {
    const other = await posenc([...args, '--seed', '1']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/^posenc: --out .*run holds a run with other settings/);
  });
});

describe('posenc bench lm on WikiText with a tokenizer.json', () => {
  it('evaluates the whole split and adds the word-level perplexity of the WikiText protocol', async () => {
    const run = await posenc([
      'bench',
      'lm',
      ...TINY_RUN_ARGS,
      '--corpus',
      `wikitext:${WIKITEXT_FIXTURE}`,
      '--tokenizer',
      WORD_TOKENIZER_FIXTURE,
      '--train-len',
      '4',
      '--eval-lens',
      '4,8',
      '--eval-tokens',
      'all',
      '--methods',
      'alibi',
      '--steps',
      '5',
      '--out',
      'wikitext-run',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const results = JSON.parse(
      await readFile(join(root, 'wikitext-run', 'results.json'), 'utf8'),
    ) as BenchResults;
    // The test file: 4 + 12 + 9 words on 6 lines; every word and end of line is a target.
    expect(results.evaluation).toMatchObject({
      split: 'test',
      wholeSplit: true,
      words: 31,
      targets: 31,
      segments: 1,
    });
    expect(results.tokenizer.vocabSize).toBe(10);
    for (const e of results.methods[0]!.evaluations) {
      expect(e.tokens).toBe(31);
      // A word-level tokenizer: per word is per token.
      expect(e.wordPerplexity).toBeCloseTo(e.perplexity, 9);
    }
    const md = await readFile(join(root, 'wikitext-run', 'report.md'), 'utf8');
    expect(md).toContain('## Word-level perplexity (WikiText protocol)');
    expect(md).toContain('exp(total NLL / 31 words and end-of-line tokens)');
  });
});
