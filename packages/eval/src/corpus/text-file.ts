/**
 * Any text file. It has no documents to split by, so its lines are split by the byte offset where
 * they start: the first 90% of the file's bytes → train, the next 5% → valid, the last 5% → test.
 * Offsets are counted on the bytes themselves, so CRLF line ends and text that is not UTF-8
 * (Latin-1) get the stated shares; such text is read as UTF-8 with U+FFFD for invalid bytes and
 * a warning, and a file with NUL bytes is named as looking binary. The split is a pure function
 * of the file.
 */
import { existsSync, statSync } from 'node:fs';
import { UsageError } from '../usage-error.js';
import { formatBytes, type Corpus, type CorpusSplit, type SplitName } from './corpus.js';
import { inspectText, readByteLines } from './read-lines.js';

export const TEXT_FILE_SPLIT = { train: 0.9, valid: 0.05, test: 0.05 } as const;
const SPLIT_ORDER: Record<SplitName, number> = { train: 0, valid: 1, test: 2 };

export async function loadTextFile(path: string): Promise<Corpus> {
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
      for await (const line of readByteLines(path)) {
        const where = splitAt(line.offset);
        if (where === name) yield line.text;
        // The splits follow each other in the file: past ours, nothing more is ours.
        else if (SPLIT_ORDER[where] > SPLIT_ORDER[name]) return;
      }
    },
  });
  const inspected = await inspectText(path);
  const warnings = [
    ...(inspected.binary
      ? [
          `--corpus file:${path}: the file holds NUL bytes and looks binary, not text; its lines are read as text all the same`,
        ]
      : []),
    ...(!inspected.utf8 && !inspected.binary
      ? [
          `--corpus file:${path}: the file is not valid UTF-8 (Latin-1?); invalid bytes are read as U+FFFD`,
        ]
      : []),
  ];
  return {
    spec: `file:${path}`,
    ...(warnings.length && { warnings }),
    description: `${path} (${formatBytes(size)}); lines split by byte offset 90/5/5% into train/valid/test`,
    splits: {
      train: split('train', TEXT_FILE_SPLIT.train),
      valid: split('valid', TEXT_FILE_SPLIT.valid),
      test: split('test', TEXT_FILE_SPLIT.test),
    },
  };
}
