/** Byte-level tokens and a local tokenizer.json through transformers.js, offline. */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORD_TOKENIZER_FIXTURE } from '../testing/paths.js';
import { UsageError } from '../usage-error.js';
import { byteTokenizer } from './bytes.js';
import { loadTokenizer } from './load-tokenizer.js';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'posenc-tokenizer-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('tokenizers', () => {
  it('bytes: UTF-8 bytes, newline as end of line', () => {
    expect(Array.from(byteTokenizer.encode('aé\n'))).toEqual([97, 0xc3, 0xa9, 10]);
    expect(byteTokenizer.vocabSize).toBe(256);
    expect(byteTokenizer.endOfLine).toBe(10);
  });

  it('tokenizer.json: ids without special tokens, eos as end of line, vocabulary size from the ids', async () => {
    const tokenizer = await loadTokenizer(WORD_TOKENIZER_FIXTURE, '/');
    expect(Array.from(tokenizer.encode(' = the state of the union = '))).toEqual([
      6, 2, 8, 9, 2, 3, 6,
    ]);
    expect(Array.from(tokenizer.encode('banana is strong'))).toEqual([0, 4, 5]);
    expect(tokenizer.endOfLine).toBe(1);
    expect(tokenizer.vocabSize).toBe(10);
    // The folder works too, and a relative path starts from the base directory.
    const byFolder = await loadTokenizer(
      'word-tokenizer',
      dirname(dirname(WORD_TOKENIZER_FIXTURE)),
    );
    expect(byFolder.spec).toBe(WORD_TOKENIZER_FIXTURE);
  });

  it('names a missing tokenizer.json or tokenizer_config.json', async () => {
    const dir = join(scratch, 'no-config');
    await cp(dirname(WORD_TOKENIZER_FIXTURE), dir, { recursive: true });
    await rm(join(dir, 'tokenizer_config.json'));
    await expect(loadTokenizer(join(dir, 'tokenizer.json'), '/')).rejects.toThrow(UsageError);
    await expect(loadTokenizer(join(dir, 'tokenizer.json'), '/')).rejects.toThrow(
      `missing file ${join(dir, 'tokenizer_config.json')}`,
    );
    await expect(loadTokenizer(join(scratch, 'nowhere', 'tokenizer.json'), '/')).rejects.toThrow(
      `missing file ${join(scratch, 'nowhere', 'tokenizer.json')}`,
    );
    await expect(loadTokenizer(join(scratch, 'vocab.json'), '/')).rejects.toThrow(
      /expected a file named tokenizer.json/,
    );
  });
});
