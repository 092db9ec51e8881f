/**
 * A local Hugging Face `tokenizer.json` (with the `tokenizer_config.json` beside it) through
 * transformers.js, offline. transformers.js is imported only here and only when a tokenizer path
 * is given: importing it loads ONNX Runtime, which the byte-level default does not need.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../usage-error.js';
import type { Tokenizer } from './tokenizer.js';

export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

/** What posenc uses of a transformers.js tokenizer. */
export interface HfTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): number[];
  /** Token strings of a text, without special tokens. */
  tokenize(text: string): string[];
  convert_tokens_to_ids(tokens: string[]): number[];
  get_vocab(): Map<string, number>;
  eos_token_id?: number | null;
  bos_token_id?: number | null;
  sep_token_id?: number | null;
  pad_token_id?: number | null;
  all_special_ids?: number[];
}

export interface OpenedHfTokenizer {
  /** The tokenizer.json's absolute path. */
  file: string;
  tokenizer: HfTokenizer;
  /** The parsed tokenizer.json (its model and pre-tokenizer types). */
  json: unknown;
  /** The parsed tokenizer_config.json (its special tokens). */
  config: unknown;
  /** Ids the model's vocabulary must hold: every id of the vocabulary and the special tokens. */
  vocabSize: number;
}

/** `path` is a tokenizer.json or the folder holding it; read offline through transformers.js. */
export async function openHfTokenizer(path: string): Promise<OpenedHfTokenizer> {
  const file = path.endsWith('.json') ? path : join(path, TOKENIZER_FILE);
  const dir = dirname(file);
  if (basename(file) !== TOKENIZER_FILE)
    throw new UsageError(
      `--tokenizer ${path}: expected a file named ${TOKENIZER_FILE} (or its folder)`,
    );
  for (const required of [file, join(dir, TOKENIZER_CONFIG_FILE)])
    if (!existsSync(required))
      throw new UsageError(`--tokenizer ${path}: missing file ${required}`);
  const tokenizerJson: unknown = await readJson(file, path);
  const tokenizerConfig: unknown = await readJson(join(dir, TOKENIZER_CONFIG_FILE), path);

  const transformers = await import('@huggingface/transformers');
  // Offline: a tokenizer path must never turn into a download.
  transformers.env.allowRemoteModels = false;
  transformers.env.allowLocalModels = true;
  let tokenizer: HfTokenizer;
  try {
    // As AutoTokenizer.from_pretrained does, minus its file lookup (done above, to name a missing file).
    const TokenizerClass = tokenizerClass(
      transformers as unknown as Record<string, unknown>,
      tokenizerConfig,
    );
    tokenizer = new TokenizerClass(tokenizerJson, tokenizerConfig) as unknown as HfTokenizer;
  } catch (e) {
    throw new UsageError(`--tokenizer ${path}: transformers.js cannot read it: ${firstLine(e)}`);
  }
  // Added special tokens (an eos outside the model's vocabulary) count as ids too.
  let vocabSize = 0;
  for (const id of tokenizer.get_vocab().values()) vocabSize = Math.max(vocabSize, id + 1);
  for (const id of tokenizer.all_special_ids ?? []) vocabSize = Math.max(vocabSize, id + 1);
  return { file, tokenizer, json: tokenizerJson, config: tokenizerConfig, vocabSize };
}

/** `path` is a tokenizer.json or the folder holding it. */
export async function loadHfTokenizer(path: string): Promise<Tokenizer> {
  const { file, tokenizer, vocabSize: ids } = await openHfTokenizer(path);
  const endOfLine = endOfLineId(tokenizer, path);
  const vocabSize = Math.max(ids, endOfLine + 1);
  return {
    spec: file,
    description: `${file} (${vocabSize} ids; end of line = id ${endOfLine})`,
    vocabSize,
    endOfLine,
    encode: (text) => tokenizer.encode(text, { add_special_tokens: false }),
  };
}

type TokenizerConstructor = new (json: unknown, config: unknown) => unknown;

/** The class AutoTokenizer would pick: `tokenizer_class` without "Fast", else the base class. */
function tokenizerClass(
  transformers: Record<string, unknown>,
  config: unknown,
): TokenizerConstructor {
  const named = (config as { tokenizer_class?: unknown } | null)?.tokenizer_class;
  const exported = typeof named === 'string' ? transformers[named.replace(/Fast$/, '')] : undefined;
  return (
    typeof exported === 'function' ? exported : transformers['PreTrainedTokenizer']
  ) as TokenizerConstructor;
}

/** The end-of-sequence token, else a newline that encodes to one id. */
function endOfLineId(tokenizer: HfTokenizer, path: string): number {
  if (typeof tokenizer.eos_token_id === 'number') return tokenizer.eos_token_id;
  const newline = tokenizer.encode('\n', { add_special_tokens: false });
  if (newline.length === 1) return newline[0]!;
  throw new UsageError(
    `--tokenizer ${path}: no end-of-line token: tokenizer_config.json names no eos_token and a newline encodes to ${newline.length} ids`,
  );
}

async function readJson(file: string, given: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`--tokenizer ${given}: ${file} is not valid JSON: ${firstLine(e)}`);
  }
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0]!;
}
