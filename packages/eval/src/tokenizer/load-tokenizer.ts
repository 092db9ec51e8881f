import { resolve } from 'node:path';
import { byteTokenizer } from './bytes.js';
import { loadHfTokenizer } from './hf-tokenizer.js';
import type { Tokenizer } from './tokenizer.js';

const loaded = new Map<string, Promise<Tokenizer>>();

/**
 * `--tokenizer bytes | PATH_TO_tokenizer.json`, a relative path taken from `baseDir`. Loaded
 * once per process and path (checking the settings and running the cells both need it).
 */
export async function loadTokenizer(spec: string, baseDir: string): Promise<Tokenizer> {
  if (spec === 'bytes') return byteTokenizer;
  const path = resolve(baseDir, spec);
  let tokenizer = loaded.get(path);
  if (!tokenizer) {
    tokenizer = loadHfTokenizer(path);
    loaded.set(path, tokenizer);
    // A failed load (a missing file) is retried when asked again, not cached.
    tokenizer.catch(() => loaded.delete(path));
  }
  return tokenizer;
}
