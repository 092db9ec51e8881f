/**
 * The settings of a `posenc bench lm` run. Everything that changes a figure is in `BenchConfig`
 * and in its hash, which names the default run folder and guards it: a rerun with the same
 * settings continues the run, other settings never mix into it. The methods are not part of the
 * hash, so adding a method to a finished run trains only that one.
 */
import { createHash } from 'node:crypto';
import type { ModelShape } from '../methods/method.js';

export type EvalSplit = 'valid' | 'test';

export interface BenchConfig {
  /** Corpus spec with its path resolved: `sotu`, `wikitext:/abs/dir`, `file:/abs/file`. */
  corpus: string;
  /** `bytes` or the absolute path of a tokenizer.json. */
  tokenizer: string;
  /** Training length L (tokens per window). */
  trainLength: number;
  /** Evaluation lengths, ascending. */
  evalLengths: number[];
  steps: number;
  /** Windows per batch at the training length. */
  batch: number;
  model: ModelShape;
  /** Peak AdamW learning rate (cosine decay to 10% after a warmup of min(30, steps/10) steps). */
  lr: number;
  seed: number;
  evalSplit: EvalSplit;
  /** Targets scored per evaluation (spread over the split), or 'all' for the whole split. */
  evalTokens: number | 'all';
  /** Sliding-window stride as a share of the evaluation length, in (0, 1]. */
  strideRatio: number;
}

export const CONFIG_FORMAT = 'posenc-bench-lm/1';

/** JSON with object keys sorted, so equal configs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

export function configHash(config: BenchConfig): string {
  return createHash('sha256')
    .update(CONFIG_FORMAT)
    .update(canonicalJson(config))
    .digest('hex')
    .slice(0, 10);
}

/** `lm-<corpus>-<tokenizer>-L<train length>-<hash>`: readable, and unique per config. */
export function defaultRunName(config: BenchConfig): string {
  const corpus = config.corpus.split(':')[0]!;
  const tokenizer = config.tokenizer === 'bytes' ? 'bytes' : 'tok';
  return `lm-${corpus}-${tokenizer}-L${config.trainLength}-${configHash(config)}`;
}
