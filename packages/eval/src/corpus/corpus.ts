/**
 * A corpus is three splits of text units. A unit is a document (an address) or a line (WikiText);
 * the token stream of a split is every unit followed by the tokenizer's end-of-line token, so the
 * line structure survives tokenization and the end-of-line tokens are predicted and counted like
 * any other token, as in the standard WikiText protocol (fairseq appends `</s>` to every line).
 */
export const SPLIT_NAMES = ['train', 'valid', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

export interface CorpusSplit {
  /** What the split holds, e.g. "23 addresses, 1.1 MB". */
  readonly description: string;
  /** The units in order; read lazily so a large file is never one string. */
  units(): AsyncIterable<string>;
  /**
   * True for word-tokenized text (WikiText `.tokens`): the split then also gets the standard
   * word-level perplexity, exp(total NLL / (words + one end-of-line per line)).
   */
  readonly wordLevel: boolean;
}

export interface Corpus {
  /** As given on the command line: `sotu`, `wikitext:DIR`, `file:PATH`. */
  readonly spec: string;
  readonly description: string;
  /** What the user should know about the data (a file that looks binary), printed and reported. */
  readonly warnings?: readonly string[];
  readonly splits: Readonly<Record<SplitName, CorpusSplit>>;
}

/** Words of a WikiText line as fairseq counts them (`line.strip().split()`), without the end of line. */
export function countWords(line: string): number {
  let count = 0;
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const space = /\s/.test(line[i]!);
    if (!space && !inWord) count++;
    inWord = !space;
  }
  return count;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}
