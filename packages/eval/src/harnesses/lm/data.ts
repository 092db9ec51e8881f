/**
 * The data of an LM run, loaded from its config alone: the corpus's training split as one token
 * stream, the evaluation split and the segments of it that are scored, and the facts the report
 * states (split sizes, the unigram entropy a model without context reaches).
 */
import { unigramEntropy } from '@posenc/core';
import { UsageError } from '../../usage-error.js';
import { longestEvalLength, type LMConfig } from './config.js';
import type { Corpus } from '../../corpus/corpus.js';
import { loadCorpus } from '../../corpus/load-corpus.js';
import { evalSegments, segmentContexts } from './data/eval-segments.js';
import type { TokenArray } from './data/token-array.js';
import { tokenizeSplit, type TokenStream } from './data/token-stream.js';
import { loadTokenizer } from '../../tokenizer/load-tokenizer.js';
import type { Tokenizer } from '../../tokenizer/tokenizer.js';

export interface EvaluationInfo {
  split: string;
  /** Target tokens scored at every length and mode. */
  targets: number;
  segments: number;
  segmentTargets: number;
  wholeSplit: boolean;
  /** Words + end-of-line tokens of the split (WikiText `.tokens`). */
  words?: number;
}

export interface LMData {
  corpus: Corpus;
  tokenizer: Tokenizer;
  vocabSize: number;
  train: TokenStream;
  evalStream: TokenStream;
  segments: TokenArray[];
  /** The longest evaluation length's worth of tokens before each segment (for cached methods). */
  segmentContexts: TokenArray[];
  evaluation: EvaluationInfo;
  /** Nats per token: the loss of a model without context. */
  trainUnigramEntropy: number;
}

/** `config.corpus` and `config.tokenizer` are resolved (absolute) specs. */
export async function loadLMData(config: LMConfig): Promise<LMData> {
  const corpus = await loadCorpus(config.corpus, '/');
  const tokenizer = await loadTokenizer(config.tokenizer, '/');
  const train = await tokenizeSplit(corpus.splits.train, tokenizer);
  const evalStream = await tokenizeSplit(corpus.splits[config.evalSplit], tokenizer);
  const longest = longestEvalLength(config);
  for (const [what, stream, needed] of [
    ['training', train, Math.max(config.trainLength, longest) + 1],
    [config.evalSplit, evalStream, longest + 1],
  ] as const)
    if (stream.tokens.length < needed)
      throw new UsageError(
        `--corpus ${config.corpus}: the ${what} split has ${stream.tokens.length} tokens, fewer than the ${needed} the lengths need (--train-len ${config.trainLength}, longest of --eval-lens ${longest})`,
      );
  const segmentOptions = { maxTokens: config.evalTokens, longestLength: longest };
  const segments = evalSegments(evalStream.tokens, segmentOptions);
  const wholeSplit = segments.length === 1 && segments[0]!.length === evalStream.tokens.length;
  return {
    corpus,
    tokenizer,
    vocabSize: tokenizer.vocabSize,
    train,
    evalStream,
    segments,
    segmentContexts: segmentContexts(evalStream.tokens, { ...segmentOptions, length: longest }),
    evaluation: {
      split: config.evalSplit,
      targets: segments.reduce((n, s) => n + s.length - 1, 0),
      segments: segments.length,
      segmentTargets: segments[0]!.length - 1,
      wholeSplit,
      ...(wholeSplit && evalStream.words !== undefined && { words: evalStream.words }),
    },
    trainUnigramEntropy: unigramEntropy(train.tokens),
  };
}

/** What results.json records of the data. */
export function lmDataFacts(config: LMConfig, data: LMData) {
  return {
    corpus: {
      spec: data.corpus.spec,
      description: data.corpus.description,
      splits: {
        train: {
          description: data.corpus.splits.train.description,
          tokens: data.train.tokens.length,
        },
        [config.evalSplit]: {
          description: data.corpus.splits[config.evalSplit].description,
          tokens: data.evalStream.tokens.length,
        },
      },
      trainUnigramEntropy: data.trainUnigramEntropy,
    },
    tokenizer: {
      spec: data.tokenizer.spec,
      description: data.tokenizer.description,
      vocabSize: data.tokenizer.vocabSize,
    },
    evaluation: data.evaluation,
  };
}

export type LMDataFacts = ReturnType<typeof lmDataFacts>;
