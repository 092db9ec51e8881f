/**
 * `posenc bench lm`'s own options and the ranges they allow. The same ranges check a config that
 * comes from the library API, so a preset edited in code gets the messages a flag would.
 */
import {
  choiceOption,
  decimalOption,
  integerListOption,
  integerOption,
  textOption,
  type OptionSpec,
} from '../../run/options.js';
import type { IntegerRange } from '../../run/numbers.js';
import { parseInteger } from '../../run/numbers.js';
import { UsageError } from '../../usage-error.js';
import { MAX_LENGTH, type LMConfig } from './config.js';
import { CORPUS_FORMS } from '../../corpus/load-corpus.js';

export const LM_RANGES = {
  trainLength: { min: 2, max: MAX_LENGTH },
  evalLength: { min: 1, max: MAX_LENGTH },
  steps: { min: 1, max: 100_000_000 },
  batch: { min: 1, max: 1_000_000 },
  modelDim: { min: 1, max: 1_048_576 },
  layers: { min: 1, max: 1024 },
  heads: { min: 1, max: 1024 },
  ffnDim: { min: 1, max: 1_048_576 },
  evalTokens: { min: 1, max: 1_000_000_000_000 },
} as const satisfies Record<string, IntegerRange>;

const model = (c: LMConfig, field: keyof LMConfig['model'], value: number): LMConfig => ({
  ...c,
  model: { ...c.model, [field]: value },
});

export const LM_OPTIONS: readonly OptionSpec<LMConfig>[] = [
  integerOption({
    flag: 'train-len',
    help: 'training length L in tokens',
    ...LM_RANGES.trainLength,
    get: (c) => c.trainLength,
    set: (c, v) => ({ ...c, trainLength: v }),
  }),
  integerListOption({
    flag: 'eval-lens',
    help: 'evaluation lengths',
    ...LM_RANGES.evalLength,
    get: (c) => c.evalLengths,
    set: (c, v) => ({ ...c, evalLengths: v }),
  }),
  integerOption({
    flag: 'steps',
    help: 'optimizer steps per cell',
    ...LM_RANGES.steps,
    get: (c) => c.steps,
    set: (c, v) => ({ ...c, steps: v }),
  }),
  integerOption({
    flag: 'batch',
    help: 'windows per batch at length L',
    ...LM_RANGES.batch,
    get: (c) => c.batch,
    set: (c, v) => ({ ...c, batch: v }),
  }),
  textOption({
    flag: 'corpus',
    value: 'SPEC',
    help: `${CORPUS_FORMS} (sotu: State of the Union addresses, split by address)`,
    get: (c) => c.corpus,
    set: (c, v) => ({ ...c, corpus: v }),
  }),
  textOption({
    flag: 'tokenizer',
    value: 'T',
    help: 'bytes | PATH to a tokenizer.json with its tokenizer_config.json',
    get: (c) => c.tokenizer,
    set: (c, v) => ({ ...c, tokenizer: v }),
  }),
  choiceOption({
    flag: 'eval-split',
    help: 'held-out split to evaluate on',
    values: ['valid', 'test'] as const,
    get: (c) => c.evalSplit,
    set: (c, v) => ({ ...c, evalSplit: v }),
  }),
  {
    flag: 'eval-tokens',
    value: 'N|all',
    help: `target tokens scored per evaluation, spread over the split, or 'all' (${LM_RANGES.evalTokens.min}…${LM_RANGES.evalTokens.max})`,
    show: (c) => String(c.evalTokens),
    apply: (c, text) => ({
      ...c,
      evalTokens:
        text === 'all' ? 'all' : parseInteger('--eval-tokens', text, LM_RANGES.evalTokens),
    }),
  },
  decimalOption({
    flag: 'stride-ratio',
    help: 'sliding-window stride as a share of the evaluation length',
    greaterThan: 0,
    max: 1,
    get: (c) => c.strideRatio,
    set: (c, v) => ({ ...c, strideRatio: v }),
  }),
  // --dim before --ffn: --dim also sets the FFN to 4·dim, which an explicit --ffn then overrides.
  integerOption({
    flag: 'dim',
    help: 'model width d (also sets --ffn to 4·d unless --ffn is given)',
    ...LM_RANGES.modelDim,
    get: (c) => c.model.modelDim,
    set: (c, v) => model(model(c, 'modelDim', v), 'ffnDim', 4 * v),
  }),
  integerOption({
    flag: 'layers',
    help: 'Transformer layers',
    ...LM_RANGES.layers,
    get: (c) => c.model.layers,
    set: (c, v) => model(c, 'layers', v),
  }),
  integerOption({
    flag: 'heads',
    help: 'attention heads (must divide d)',
    ...LM_RANGES.heads,
    get: (c) => c.model.heads,
    set: (c, v) => model(c, 'heads', v),
  }),
  integerOption({
    flag: 'ffn',
    help: 'feed-forward width',
    ...LM_RANGES.ffnDim,
    get: (c) => c.model.ffnDim,
    set: (c, v) => model(c, 'ffnDim', v),
  }),
  decimalOption({
    flag: 'lr',
    help: 'peak AdamW learning rate (warmup, then cosine decay to 10%)',
    greaterThan: 0,
    max: 10,
    get: (c) => c.lr,
    set: (c, v) => ({ ...c, lr: v }),
  }),
];

function inRange(what: string, value: number, range: IntegerRange): void {
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max)
    throw new UsageError(
      `${what} ${value} is not allowed; expected an integer from ${range.min} to ${range.max}`,
    );
}

/** The checks a config gets whether it came from flags or from code. */
export function checkLMConfig(c: LMConfig): void {
  inRange('--train-len', c.trainLength, LM_RANGES.trainLength);
  if (c.evalLengths.length === 0)
    throw new UsageError('--eval-lens is empty; give at least one length');
  for (const length of c.evalLengths) inRange('--eval-lens: entry', length, LM_RANGES.evalLength);
  inRange('--steps', c.steps, LM_RANGES.steps);
  inRange('--batch', c.batch, LM_RANGES.batch);
  inRange('--dim', c.model.modelDim, LM_RANGES.modelDim);
  inRange('--layers', c.model.layers, LM_RANGES.layers);
  inRange('--heads', c.model.heads, LM_RANGES.heads);
  inRange('--ffn', c.model.ffnDim, LM_RANGES.ffnDim);
  if (c.model.modelDim % c.model.heads !== 0)
    throw new UsageError(
      `--heads ${c.model.heads} is not allowed; it must divide --dim ${c.model.modelDim}`,
    );
  if (!(Number.isFinite(c.lr) && c.lr > 0 && c.lr <= 10))
    throw new UsageError(`--lr ${c.lr} is not allowed; expected a decimal number > 0 and ≤ 10`);
  if (c.evalTokens !== 'all') inRange('--eval-tokens', c.evalTokens, LM_RANGES.evalTokens);
  if (!(Number.isFinite(c.strideRatio) && c.strideRatio > 0 && c.strideRatio <= 1))
    throw new UsageError(
      `--stride-ratio ${c.strideRatio} is not allowed; expected a decimal number > 0 and ≤ 1`,
    );
  if (c.evalSplit !== 'valid' && c.evalSplit !== 'test')
    throw new UsageError(
      `--eval-split ${JSON.stringify(c.evalSplit)} is not allowed; expected one of valid, test`,
    );
}
