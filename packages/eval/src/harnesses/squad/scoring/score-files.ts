/**
 * `posenc score squad`: scores a predictions file against a SQuAD file as the official script
 * of the file's version does, and prints what that script prints. The version is the file's:
 * `version` "v2.0" (or "2.0") or any `is_impossible` field means SQuAD 2.0, otherwise 1.1.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../../../usage-error.js';
import {
  describe,
  goldQuestions,
  squadVersionOf,
  SquadFormatError,
  type GoldFile,
  type SquadVersion,
} from './gold-questions.js';
import { evaluateV1 } from './official-v1.js';
import { DEFAULT_NA_PROB_THRESHOLD, evaluateV2 } from './official-v2.js';
import { pythonJsonObject } from './python-json.js';

export interface ScoreFilesOptions {
  data: string;
  predictions: string;
  naProbs?: string;
  naProbThreshold?: number;
}

export interface ScoreOutcome {
  version: SquadVersion;
  scores: Record<string, number>;
  /** Exactly what the official script prints on stdout. */
  text: string;
  /** What it prints on stderr (unanswered questions, a version mismatch). */
  messages: string[];
}

async function readJson(path: string, flag: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`${flag} ${path}: cannot read it (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${flag} ${path}: not valid JSON (${(e as Error).message})`);
  }
}

export interface FlatKeys {
  /** Keys in the file's order (JavaScript's objects put integer-like keys first). */
  order: string[];
  /** Keys whose value is written as an integer (`1`, not `1.0`), which Python reads as an int. */
  integers: Set<string>;
}

/** The keys of a flat JSON object of numbers or strings, as Python's `json.load` keeps them. */
export function keysInFileOrder(text: string): FlatKeys {
  const order: string[] = [];
  const integers = new Set<string>();
  const seen = new Set<string>();
  // A string followed by ':' is a key; its value, when a number, follows.
  for (const m of text.matchAll(/"((?:[^"\\]|\\.)*)"\s*(?:(:)\s*(-?[0-9][0-9.eE+-]*)?)?/g)) {
    if (m[2] === undefined) continue;
    const key = JSON.parse(`"${m[1]}"`) as string;
    if (!seen.has(key)) {
      order.push(key);
      seen.add(key);
    }
    // A repeated key keeps its first place and its last value, as in a Python dict.
    if (m[3] !== undefined && !/[.eE]/.test(m[3])) integers.add(key);
    else integers.delete(key);
  }
  return { order, integers };
}

function flatObject(json: unknown, flag: string, path: string): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new UsageError(
      `${flag} ${path}: expected an object of question id → ${flag === '--predictions' ? 'answer text' : 'probability'}, got ${describe(json)}`,
    );
  return json as Record<string, unknown>;
}

export async function readPredictions(path: string): Promise<Map<string, string>> {
  const json = flatObject(await readJson(path, '--predictions'), '--predictions', path);
  const out = new Map<string, string>();
  for (const [id, text] of Object.entries(json)) {
    if (typeof text !== 'string')
      throw new UsageError(
        `--predictions ${path}: the prediction for ${id} is ${describe(text)}; expected a string`,
      );
    out.set(id, text);
  }
  return out;
}

export interface NaProbs {
  probs: Map<string, number>;
  integers: Set<string>;
}

export async function readNaProbs(path: string): Promise<NaProbs> {
  const json = flatObject(await readJson(path, '--na-probs'), '--na-probs', path);
  const { order, integers } = keysInFileOrder(await readFile(path, 'utf8'));
  const out = new Map<string, number>();
  for (const id of order.filter((k) => k in json)) {
    const p = json[id];
    if (typeof p !== 'number')
      throw new UsageError(
        `--na-probs ${path}: the probability for ${id} is ${describe(p)}; expected a number`,
      );
    out.set(id, p);
  }
  return { probs: out, integers };
}

export async function scoreSquadFiles(options: ScoreFilesOptions): Promise<ScoreOutcome> {
  let gold: GoldFile;
  try {
    gold = goldQuestions(await readJson(options.data, '--data'), options.data);
  } catch (e) {
    if (e instanceof SquadFormatError) throw new UsageError(`--data ${e.message}`);
    throw e;
  }
  const predictions = await readPredictions(options.predictions);
  const version = squadVersionOf(gold);
  try {
    if (version === '1.1') {
      if (options.naProbs !== undefined)
        throw new UsageError(
          `--na-probs applies to SQuAD 2.0 data; ${options.data} is SQuAD 1.1 (version ${JSON.stringify(gold.version)}, no is_impossible field)`,
        );
      const { scores, messages } = evaluateV1(gold.questions, predictions);
      if (gold.version !== '1.1')
        messages.unshift(
          `Evaluation expects v-1.1, but got dataset with v-${gold.version ?? '(none)'}`,
        );
      return {
        version,
        scores: { ...scores },
        text: pythonJsonObject({ ...scores }, new Set()),
        messages,
      };
    }
    const naProbs = options.naProbs === undefined ? undefined : await readNaProbs(options.naProbs);
    const { scores, integerKeys, messages } = evaluateV2(gold.questions, predictions, {
      ...(naProbs && { naProbs: naProbs.probs, integerNaProbs: naProbs.integers }),
      naProbThreshold: options.naProbThreshold ?? DEFAULT_NA_PROB_THRESHOLD,
    });
    return { version, scores, text: pythonJsonObject(scores, integerKeys, 2), messages };
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot score ${options.predictions}: ${(e as Error).message}`);
  }
}
