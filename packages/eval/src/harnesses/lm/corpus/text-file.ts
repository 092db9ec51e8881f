/**
 * Any UTF-8 text file. It has no documents to split by, so its lines are split by where they
 * start: the first 90% of the bytes → train, the next 5% → valid, the last 5% → test. The split
 * is a pure function of the file.
 */
import { existsSync, statSync } from 'node:fs';
import { UsageError } from '../../../usage-error.js';
import { formatBytes, type Corpus, type CorpusSplit, type SplitName } from './corpus.js';
import { readLines } from './read-lines.js';

export const TEXT_FILE_SPLIT = { train: 0.9, valid: 0.05, test: 0.05 } as const;
const SPLIT_ORDER: Record<SplitName, number> = { train: 0, valid: 1, test: 2 };

export function loadTextFile(path: string): Corpus {
  if (!existsSync(path))
    throw new UsageError(`--corpus file:${path}: the file ${path} does not exist`);
  const stat = statSync(path);
  if (!stat.isFile()) throw new UsageError(`--corpus file:${path}: ${path} is not a file`);
  if (stat.size === 0) throw new UsageError(`--corpus file:${path}: the file is empty`);
  const size = stat.size;
  // Whole byte offsets: 0.9 + 0.05 is not 0.95 in floating point.
  const validStart = Math.round(size * TEXT_FILE_SPLIT.train);
  const testStart = Math.round(size * (1 - TEXT_FILE_SPLIT.test));
  const splitAt = (offset: number): SplitName =>
    offset < validStart ? 'train' : offset < testStart ? 'valid' : 'test';
  const split = (name: SplitName, share: number): CorpusSplit => ({
    description: `lines starting in the ${name === 'train' ? 'first' : name === 'valid' ? 'next' : 'last'} ${share * 100}% of ${formatBytes(size)}`,
    wordLevel: false,
    async *units() {
      let offset = 0;
      for await (const line of readLines(path)) {
        const where = splitAt(offset);
        offset += Buffer.byteLength(line) + 1;
        if (where === name) yield line;
        // The splits follow each other in the file: past ours, nothing more is ours.
        else if (SPLIT_ORDER[where] > SPLIT_ORDER[name]) return;
      }
    },
  });
  return {
    spec: `file:${path}`,
    description: `${path} (${formatBytes(size)}); lines split by byte offset 90/5/5% into train/valid/test`,
    splits: {
      train: split('train', TEXT_FILE_SPLIT.train),
      valid: split('valid', TEXT_FILE_SPLIT.valid),
      test: split('test', TEXT_FILE_SPLIT.test),
    },
  };
}
