/**
 * The data of a SQuAD run, from its config alone: the training and dev sets (the embedded set's
 * SQuAD JSON texts go through the same reader as a file's), each question tokenized with
 * character offsets and cut into windows, and the facts the report states (questions, skipped
 * ones with their reasons, windows, the longest position).
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../../usage-error.js';
import type { SquadConfig } from './config.js';
import {
  featuresOf,
  tokenizeExample,
  type Feature,
  type TokenizedExample,
} from './data/features.js';
import { buildSotuQa } from './data/sotu-qa.js';
import { loadSpanTokenizer, type SpanTokenizer } from './data/span-tokenizer.js';
import { readSquadSet, type SquadSet } from './data/squad-file.js';
import { SquadFormatError } from './scoring/gold-questions.js';
import { readInitCheckpoint, type InitCheckpoint } from './model/init-checkpoint.js';

export interface PreparedSet {
  set: SquadSet;
  /** The JSON text it was read from (the embedded set's is written to the run folder). */
  text: string;
  tokenized: TokenizedExample[];
  features: Feature[];
}

export interface SquadData {
  tokenizer: SpanTokenizer;
  train: PreparedSet;
  dev: PreparedSet;
  /** Positions the model's tables must hold: the largest position of any window, plus one. */
  maxPositions: number;
  embedded: boolean;
  /** The checkpoint of `--init`, read once. */
  init?: InitCheckpoint;
}

export const DEV_FILE = 'dev.json';
export const TRAIN_FILE = 'train.json';

async function readText(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`${flag} ${path}: cannot read it (${(e as Error).message})`);
  }
}

function parseSet(text: string, source: string, flag: string): SquadSet {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${flag} ${source}: not valid JSON (${(e as Error).message})`);
  }
  try {
    return readSquadSet(json, source);
  } catch (e) {
    if (e instanceof SquadFormatError) throw new UsageError(`${flag} ${e.message}`);
    throw e;
  }
}

function prepare(
  set: SquadSet,
  text: string,
  tokenizer: SpanTokenizer,
  config: SquadConfig,
): PreparedSet {
  const tokenized = set.examples.map((e) => tokenizeExample(e, tokenizer));
  const spec = {
    maxLength: config.maxLength,
    maxQuestion: config.maxQuestion,
    docStride: config.docStride,
    positions: config.windowPositions,
  };
  const features = tokenized.flatMap((t, i) => featuresOf(t, i, tokenizer, spec));
  return { set, text, tokenized, features };
}

const cache = new Map<string, Promise<SquadData>>();

/** `config.train`, `dev` and `tokenizer` are resolved (absolute) specs. */
export function loadSquadData(config: SquadConfig): Promise<SquadData> {
  const key = JSON.stringify(config);
  let data = cache.get(key);
  if (!data) {
    data = load(config);
    cache.set(key, data);
    data.catch(() => cache.delete(key));
  }
  return data;
}

async function load(config: SquadConfig): Promise<SquadData> {
  const tokenizer = await loadSpanTokenizer(config.tokenizer);
  const embedded = config.train === 'sotu';
  const texts = embedded
    ? await buildSotuQa(config.sotu)
    : { train: await readText(config.train, '--train'), dev: await readText(config.dev, '--dev') };
  const trainSource = embedded ? `the embedded set (${TRAIN_FILE})` : config.train;
  const devSource = embedded ? `the embedded set (${DEV_FILE})` : config.dev;
  const train = prepare(
    parseSet(texts.train, trainSource, '--train'),
    texts.train,
    tokenizer,
    config,
  );
  const dev = prepare(parseSet(texts.dev, devSource, '--dev'), texts.dev, tokenizer, config);
  for (const [flag, p] of [
    ['--train', train],
    ['--dev', dev],
  ] as const)
    if (p.features.length === 0)
      throw new UsageError(
        `${flag} ${p.set.source}: no question can be used (${p.set.skipped.length} skipped)`,
      );
  let maxPositions = 1;
  for (const f of [...train.features, ...dev.features])
    maxPositions = Math.max(maxPositions, f.positions[f.positions.length - 1]! + 1);
  const init = config.init ? await readInitCheckpoint(config.init) : undefined;
  return { tokenizer, train, dev, maxPositions, embedded, ...(init && { init }) };
}

function setFacts(p: PreparedSet) {
  return {
    source: p.set.source,
    version: p.set.version,
    questions: p.set.gold.questions.length,
    usable: p.set.examples.length,
    unanswerable: p.set.examples.filter((e) => e.impossible).length,
    skipped: p.set.skipped.length,
    skippedExamples: p.set.skipped.slice(0, 20),
    windows: p.features.length,
  };
}

export function squadDataFacts(_config: SquadConfig, data: SquadData) {
  return {
    embedded: data.embedded,
    tokenizer: {
      spec: data.tokenizer.spec,
      description: data.tokenizer.description,
      vocabSize: data.tokenizer.vocabSize,
    },
    train: setFacts(data.train),
    dev: setFacts(data.dev),
    maxPositions: data.maxPositions,
  };
}

export type SquadDataFacts = ReturnType<typeof squadDataFacts>;

export function squadWarnings(_config: SquadConfig, data: SquadData): string[] {
  return [data.train, data.dev].flatMap((p) =>
    p.set.skipped.length
      ? [
          `${p.set.source}: ${p.set.skipped.length} question(s) skipped, e.g. ${p.set.skipped
            .slice(0, 3)
            .map((s) => `${s.id} (${s.reason})`)
            .join('; ')}`,
        ]
      : [],
  );
}
