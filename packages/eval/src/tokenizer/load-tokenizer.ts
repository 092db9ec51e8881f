import { resolve } from 'node:path';
import { byteTokenizer } from './bytes.js';
import { loadHfTokenizer } from './hf-tokenizer.js';
import type { Tokenizer } from './tokenizer.js';

/** `--tokenizer bytes | PATH_TO_tokenizer.json`, a relative path taken from `baseDir`. */
export async function loadTokenizer(spec: string, baseDir: string): Promise<Tokenizer> {
  if (spec === 'bytes') return byteTokenizer;
  return loadHfTokenizer(resolve(baseDir, spec));
}
