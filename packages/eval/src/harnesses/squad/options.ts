/**
 * `posenc bench squad`'s own options and the ranges they allow; the same ranges check a config
 * from the library API.
 */
import type { IntegerRange } from '../../run/numbers.js';
import {
  choiceOption,
  decimalOption,
  integerListOption,
  integerOption,
  textOption,
  type OptionSpec,
} from '../../run/options.js';
import { UsageError } from '../../usage-error.js';
import type { SquadConfig } from './config.js';

export const SQUAD_RANGES = {
  maxLength: { min: 8, max: 4096 },
  maxQuestion: { min: 1, max: 1024 },
  docStride: { min: 1, max: 4096 },
  steps: { min: 1, max: 100_000_000 },
  batch: { min: 1, max: 100_000 },
  modelDim: { min: 1, max: 65_536 },
  layers: { min: 1, max: 256 },
  heads: { min: 1, max: 256 },
  ffnDim: { min: 1, max: 262_144 },
  nBest: { min: 1, max: 1000 },
  maxAnswerLength: { min: 1, max: 4096 },
  questions: { min: 1, max: 1_000_000 },
  contextChars: { min: 40, max: 100_000 },
  questionWords: { min: 1, max: 50 },
  lengthBucket: { min: 1, max: 10_000_000 },
} as const satisfies Record<string, IntegerRange>;

const R = SQUAD_RANGES;
const model = (c: SquadConfig, field: keyof SquadConfig['model'], v: number): SquadConfig => ({
  ...c,
  model: { ...c.model, [field]: v },
});
const sotu = (c: SquadConfig, field: keyof SquadConfig['sotu'], v: number): SquadConfig => ({
  ...c,
  sotu: { ...c.sotu, [field]: v },
});

export const SQUAD_OPTIONS: readonly OptionSpec<SquadConfig>[] = [
  textOption({
    flag: 'train',
    value: 'sotu|FILE',
    help: 'SQuAD JSON to train on (v1.1 or v2.0), or sotu: the embedded set',
    get: (c) => c.train,
    set: (c, v) => ({ ...c, train: v }),
  }),
  textOption({
    flag: 'dev',
    value: 'sotu|FILE',
    help: 'SQuAD JSON to evaluate on, scored as the official script does, or sotu',
    get: (c) => c.dev,
    set: (c, v) => ({ ...c, dev: v }),
  }),
  textOption({
    flag: 'tokenizer',
    value: 'T',
    help: 'bytes | PATH to a tokenizer.json (WordPiece or BPE) with its tokenizer_config.json',
    get: (c) => c.tokenizer,
    set: (c, v) => ({ ...c, tokenizer: v }),
  }),
  {
    flag: 'init',
    value: 'DIR',
    help: 'start from a checkpoint: an HF RoFormer folder (config.json + model.safetensors, rope only) or one of ours (model.safetensors or a checkpoints folder)',
    show: (c) => c.init || 'none',
    apply: (c, text) => ({ ...c, init: text === 'none' ? '' : text }),
  },
  integerOption({
    flag: 'max-len',
    help: 'tokens per window, [CLS] and [SEP]s included',
    ...R.maxLength,
    get: (c) => c.maxLength,
    set: (c, v) => ({ ...c, maxLength: v }),
  }),
  integerOption({
    flag: 'max-question',
    help: 'question tokens kept',
    ...R.maxQuestion,
    get: (c) => c.maxQuestion,
    set: (c, v) => ({ ...c, maxQuestion: v }),
  }),
  integerOption({
    flag: 'doc-stride',
    help: 'tokens between the starts of a context’s windows',
    ...R.docStride,
    get: (c) => c.docStride,
    set: (c, v) => ({ ...c, docStride: v }),
  }),
  choiceOption({
    flag: 'window-positions',
    help: "document: a context token's position is its place in the whole context (a window keeps its offset); window: 0…N−1 in every window",
    values: ['document', 'window'] as const,
    get: (c) => c.windowPositions,
    set: (c, v) => ({ ...c, windowPositions: v }),
  }),
  integerOption({
    flag: 'steps',
    help: 'optimizer steps per cell',
    ...R.steps,
    get: (c) => c.steps,
    set: (c, v) => ({ ...c, steps: v }),
  }),
  integerOption({
    flag: 'batch',
    help: 'windows per batch',
    ...R.batch,
    get: (c) => c.batch,
    set: (c, v) => ({ ...c, batch: v }),
  }),
  decimalOption({
    flag: 'lr',
    help: 'peak AdamW learning rate (warmup, then cosine decay to 10%)',
    greaterThan: 0,
    max: 10,
    get: (c) => c.lr,
    set: (c, v) => ({ ...c, lr: v }),
  }),
  integerOption({
    flag: 'dim',
    help: 'model width d (also sets --ffn to 4·d unless --ffn is given)',
    ...R.modelDim,
    get: (c) => c.model.modelDim,
    set: (c, v) => model(model(c, 'modelDim', v), 'ffnDim', 4 * v),
  }),
  integerOption({
    flag: 'layers',
    help: 'encoder layers',
    ...R.layers,
    get: (c) => c.model.layers,
    set: (c, v) => model(c, 'layers', v),
  }),
  integerOption({
    flag: 'heads',
    help: 'attention heads (must divide d)',
    ...R.heads,
    get: (c) => c.model.heads,
    set: (c, v) => model(c, 'heads', v),
  }),
  integerOption({
    flag: 'ffn',
    help: 'feed-forward width',
    ...R.ffnDim,
    get: (c) => c.model.ffnDim,
    set: (c, v) => model(c, 'ffnDim', v),
  }),
  integerOption({
    flag: 'n-best',
    help: 'start and end candidates per window',
    ...R.nBest,
    get: (c) => c.nBest,
    set: (c, v) => ({ ...c, nBest: v }),
  }),
  integerOption({
    flag: 'max-answer-len',
    help: 'longest answer in tokens',
    ...R.maxAnswerLength,
    get: (c) => c.maxAnswerLength,
    set: (c, v) => ({ ...c, maxAnswerLength: v }),
  }),
  decimalOption({
    flag: 'null-threshold',
    help: 'SQuAD 2.0: predict no answer when null score − best span score exceeds this',
    get: (c) => c.nullThreshold,
    set: (c, v) => ({ ...c, nullThreshold: v }),
  }),
  integerListOption({
    flag: 'length-buckets',
    help: 'upper edges of the context-length buckets, in characters',
    ...R.lengthBucket,
    get: (c) => c.lengthBuckets,
    set: (c, v) => ({ ...c, lengthBuckets: v }),
  }),
  integerOption({
    flag: 'sotu-train',
    help: 'embedded set: training questions',
    ...R.questions,
    get: (c) => c.sotu.trainQuestions,
    set: (c, v) => sotu(c, 'trainQuestions', v),
  }),
  integerOption({
    flag: 'sotu-dev',
    help: 'embedded set: dev questions',
    ...R.questions,
    get: (c) => c.sotu.devQuestions,
    set: (c, v) => sotu(c, 'devQuestions', v),
  }),
  integerOption({
    flag: 'sotu-context',
    help: 'embedded set: longest context in characters',
    ...R.contextChars,
    get: (c) => c.sotu.maxContextChars,
    set: (c, v) => sotu(c, 'maxContextChars', v),
  }),
];

function inRange(flag: string, value: number, range: IntegerRange): void {
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max)
    throw new UsageError(
      `${flag} ${value} is not allowed; expected an integer from ${range.min} to ${range.max}`,
    );
}

/** The checks a config gets whether it came from flags or from code. */
export function checkSquadConfig(c: SquadConfig): void {
  const integers: [string, number, IntegerRange][] = [
    ['--max-len', c.maxLength, R.maxLength],
    ['--max-question', c.maxQuestion, R.maxQuestion],
    ['--doc-stride', c.docStride, R.docStride],
    ['--steps', c.steps, R.steps],
    ['--batch', c.batch, R.batch],
    ['--dim', c.model.modelDim, R.modelDim],
    ['--layers', c.model.layers, R.layers],
    ['--heads', c.model.heads, R.heads],
    ['--ffn', c.model.ffnDim, R.ffnDim],
    ['--n-best', c.nBest, R.nBest],
    ['--max-answer-len', c.maxAnswerLength, R.maxAnswerLength],
    ['--sotu-train', c.sotu.trainQuestions, R.questions],
    ['--sotu-dev', c.sotu.devQuestions, R.questions],
    ['--sotu-context', c.sotu.maxContextChars, R.contextChars],
    ['sotu.questionWords', c.sotu.questionWords, R.questionWords],
    ...c.lengthBuckets.map((b): [string, number, IntegerRange] => [
      '--length-buckets: entry',
      b,
      R.lengthBucket,
    ]),
  ];
  for (const [flag, value, range] of integers) inRange(flag, value, range);
  if (c.maxQuestion + 3 >= c.maxLength)
    throw new UsageError(
      `--max-question ${c.maxQuestion} is not allowed with --max-len ${c.maxLength}; the question, [CLS] and two [SEP]s must leave room for context`,
    );
  if (c.model.modelDim % c.model.heads !== 0)
    throw new UsageError(
      `--heads ${c.model.heads} is not allowed; it must divide --dim ${c.model.modelDim}`,
    );
  if (!(Number.isFinite(c.lr) && c.lr > 0 && c.lr <= 10))
    throw new UsageError(`--lr ${c.lr} is not allowed; expected a decimal number > 0 and ≤ 10`);
  if ((c.train === 'sotu') !== (c.dev === 'sotu'))
    throw new UsageError(
      `--train ${c.train} with --dev ${c.dev} is not allowed; both are sotu (the embedded set) or both are files`,
    );
  if (c.windowPositions !== 'document' && c.windowPositions !== 'window')
    throw new UsageError(
      `--window-positions ${JSON.stringify(c.windowPositions)} is not allowed; expected one of document, window`,
    );
}
