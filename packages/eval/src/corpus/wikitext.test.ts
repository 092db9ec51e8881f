/**
 * The WikiText loader on small files in the WikiText format: lines as units, one end-of-line
 * token per line (blank lines included), and the word count of the standard protocol.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenizeSplit } from '../harnesses/lm/data/token-stream.js';
import { WIKITEXT_FIXTURE, WORD_TOKENIZER_FIXTURE } from '../testing/paths.js';
import { byteTokenizer } from '../tokenizer/bytes.js';
import { loadHfTokenizer } from '../tokenizer/hf-tokenizer.js';
import { UsageError } from '../usage-error.js';
import { countWords } from './corpus.js';
import { loadCorpus } from './load-corpus.js';
import { loadWikiText, wikiTextVariant } from './wikitext.js';

async function collect(units: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const u of units) out.push(u);
  return out;
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'posenc-wikitext-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('WikiText loader', () => {
  it('prefers the word-level .tokens files and reads every line, blank ones included', async () => {
    const corpus = loadWikiText(WIKITEXT_FIXTURE);
    expect(corpus.spec).toBe(`wikitext:${WIKITEXT_FIXTURE}`);
    expect(corpus.splits.test.wordLevel).toBe(true);
    const lines = await collect(corpus.splits.test.units());
    expect(lines).toEqual([
      ' ',
      ' = The Address = ',
      ' ',
      ' The state of the union is strong , said the <unk> . ',
      ' The address was 6 @.@ 5 pages long . ',
      ' ',
    ]);
  });

  it('counts words as fairseq does (line.strip().split()) plus one end of line per line', async () => {
    expect(countWords(' = The Address = ')).toBe(4);
    expect(countWords(' ')).toBe(0);
    expect(countWords(' The address was 6 @.@ 5 pages long . ')).toBe(9);
    const stream = await tokenizeSplit(loadWikiText(WIKITEXT_FIXTURE).splits.test, byteTokenizer);
    // 4 + 12 + 9 words on 6 lines.
    expect(stream.words).toBe(4 + 12 + 9 + 6);
    expect(stream.units).toBe(6);
  });

  it('builds the byte stream as the file with a leading end of line: every byte of the file is a target', async () => {
    const { readFile } = await import('node:fs/promises');
    const file = await readFile(join(WIKITEXT_FIXTURE, 'wiki.valid.tokens'));
    const stream = await tokenizeSplit(loadWikiText(WIKITEXT_FIXTURE).splits.valid, byteTokenizer);
    expect(stream.tokens[0]).toBe(10);
    expect(Array.from(stream.tokens.subarray(1))).toEqual(Array.from(file));
  });

  it('with a word-level tokenizer, targets are exactly the words plus the ends of line', async () => {
    const tokenizer = await loadHfTokenizer(WORD_TOKENIZER_FIXTURE);
    const stream = await tokenizeSplit(loadWikiText(WIKITEXT_FIXTURE).splits.test, tokenizer);
    expect(stream.tokens.length - 1).toBe(stream.words);
    const endOfLines = Array.from(stream.tokens).filter((t) => t === tokenizer.endOfLine).length;
    expect(endOfLines).toBe(6 + 1); // one per line, and the leading context token
  });

  it('falls back to .raw when the .tokens files are not all there', async () => {
    const dir = join(scratch, 'raw-only');
    await cp(WIKITEXT_FIXTURE, dir, { recursive: true });
    await rm(join(dir, 'wiki.valid.tokens'));
    expect(wikiTextVariant(dir)).toBe('raw');
    const corpus = loadWikiText(dir);
    expect(corpus.splits.test.wordLevel).toBe(false);
    expect((await collect(corpus.splits.test.units()))[3]).toBe(
      ' The state of the union is strong , said the Congress . ',
    );
  });

  it('names the missing files, and a missing folder, in a UsageError', async () => {
    const dir = join(scratch, 'incomplete');
    await cp(WIKITEXT_FIXTURE, dir, { recursive: true });
    await rm(join(dir, 'wiki.test.tokens'));
    await rm(join(dir, 'wiki.test.raw'));
    expect(() => wikiTextVariant(dir)).toThrow(UsageError);
    expect(() => wikiTextVariant(dir)).toThrow(join(dir, 'wiki.test.tokens'));
    await expect(loadCorpus(`wikitext:${join(scratch, 'nowhere')}`, scratch)).rejects.toThrow(
      /does not exist/,
    );
  });

  it('resolves a relative folder from the base directory', async () => {
    const corpus = await loadCorpus('wikitext:wikitext', join(WIKITEXT_FIXTURE, '..'));
    expect(corpus.spec).toBe(`wikitext:${join(WIKITEXT_FIXTURE, '..', 'wikitext')}`);
  });
});
