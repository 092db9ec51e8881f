/**
 * WikiText-2 / WikiText-103 (Merity et al. 2016, arXiv 1609.07843) from a folder holding
 * `wiki.{train,valid,test}.tokens` (word-level, `<unk>` for rare words) or `.raw` (the same text
 * before `<unk>` replacement). The `.tokens` files are preferred when all three are present: their
 * standard perplexity is per word, with one end-of-line token per line — blank lines included —
 * as fairseq's `eval_lm` counts them (`line.strip().split()` + `</s>`).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../usage-error.js';
import {
  formatBytes,
  SPLIT_NAMES,
  type Corpus,
  type CorpusSplit,
  type SplitName,
} from './corpus.js';
import { readLines } from './read-lines.js';

export type WikiTextVariant = 'tokens' | 'raw';

export function wikiTextFile(dir: string, split: SplitName, variant: WikiTextVariant): string {
  return join(dir, `wiki.${split}.${variant}`);
}

/** The variant whose three files are all in `dir`, `.tokens` first; a UsageError naming what is missing otherwise. */
export function wikiTextVariant(dir: string): WikiTextVariant {
  if (!existsSync(dir))
    throw new UsageError(`--corpus wikitext:${dir}: the folder ${dir} does not exist`);
  if (!statSync(dir).isDirectory())
    throw new UsageError(`--corpus wikitext:${dir}: ${dir} is not a folder`);
  const missing: Record<WikiTextVariant, string[]> = { tokens: [], raw: [] };
  for (const variant of ['tokens', 'raw'] as const) {
    for (const split of SPLIT_NAMES) {
      const file = wikiTextFile(dir, split, variant);
      if (!existsSync(file)) missing[variant].push(file);
    }
    if (missing[variant].length === 0) return variant;
  }
  throw new UsageError(
    `--corpus wikitext:${dir}: expected wiki.{train,valid,test}.tokens or .raw; missing ${missing.tokens.join(', ')} (and for .raw: ${missing.raw.join(', ')})`,
  );
}

export function loadWikiText(dir: string): Corpus {
  const variant = wikiTextVariant(dir);
  const split = (name: SplitName): CorpusSplit => {
    const file = wikiTextFile(dir, name, variant);
    return {
      description: `${file}, ${formatBytes(statSync(file).size)}`,
      wordLevel: variant === 'tokens',
      units: () => readLines(file),
    };
  };
  return {
    spec: `wikitext:${dir}`,
    description: `WikiText (${variant === 'tokens' ? 'word-level .tokens' : '.raw'}) from ${dir}; one end-of-line token per line`,
    splits: { train: split('train'), valid: split('valid'), test: split('test') },
  };
}
