/** `posenc bench lm` options → the benchmark's settings, every mistake a one-line UsageError. */
import { parseArgs } from 'node:util';
import type { BenchConfig, EvalSplit } from '../bench/config.js';
import type { LMBenchOptions } from '../bench/lm-bench.js';
import { PRESET_NAMES, PRESETS } from '../bench/presets.js';
import { UsageError } from '../usage-error.js';

const OPTIONS = {
  preset: { type: 'string' },
  methods: { type: 'string' },
  'train-len': { type: 'string' },
  'eval-lens': { type: 'string' },
  steps: { type: 'string' },
  batch: { type: 'string' },
  corpus: { type: 'string' },
  tokenizer: { type: 'string' },
  'eval-split': { type: 'string' },
  'eval-tokens': { type: 'string' },
  'stride-ratio': { type: 'string' },
  dim: { type: 'string' },
  layers: { type: 'string' },
  heads: { type: 'string' },
  ffn: { type: 'string' },
  lr: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type ParsedBench = { help: true } | { help: false; options: LMBenchOptions };

export function parseInteger(flag: string, text: string, min: number): number {
  if (!/^\d+$/.test(text.trim()))
    throw new UsageError(
      `${flag} ${JSON.stringify(text)} is not allowed; expected an integer ≥ ${min}`,
    );
  const value = Number(text);
  if (value < min)
    throw new UsageError(`${flag} ${value} is not allowed; expected an integer ≥ ${min}`);
  return value;
}

function parseNumber(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value))
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not a number`);
  return value;
}

export function parseLengths(flag: string, text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => p === ''))
    throw new UsageError(
      `${flag} ${JSON.stringify(text)} has an empty entry; expected lengths like 128,256,512`,
    );
  return parts.map((p) => parseInteger(`${flag}: length`, p, 1));
}

export function parseBenchArgs(
  args: readonly string[],
  baseDir: string,
  command: string,
): ParsedBench {
  let values: Partial<Record<keyof typeof OPTIONS, string | boolean>>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: OPTIONS,
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    // node's messages span lines and mention "Use -- to…"; keep the first sentence.
    throw new UsageError(
      `${String((e as Error).message).split('\n')[0]} (posenc bench lm --help lists the options)`,
    );
  }
  if (values.help) return { help: true };
  const str = (k: keyof typeof OPTIONS): string | undefined => values[k] as string | undefined;

  const presetName = str('preset') ?? 'default';
  const preset = PRESETS[presetName];
  if (!preset)
    throw new UsageError(
      `--preset ${JSON.stringify(presetName)} is not a preset; expected ${PRESET_NAMES.join(', ')}`,
    );

  const dim = str('dim') !== undefined ? parseInteger('--dim', str('dim')!, 1) : undefined;
  const evalTokensText = str('eval-tokens');
  const evalSplit = str('eval-split') ?? preset.evalSplit;
  if (evalSplit !== 'valid' && evalSplit !== 'test')
    throw new UsageError(
      `--eval-split ${JSON.stringify(evalSplit)} is not allowed; expected valid or test`,
    );
  const config: BenchConfig = {
    corpus: str('corpus') ?? preset.corpus,
    tokenizer: str('tokenizer') ?? preset.tokenizer,
    trainLength:
      str('train-len') !== undefined
        ? parseInteger('--train-len', str('train-len')!, 2)
        : preset.trainLength,
    evalLengths:
      str('eval-lens') !== undefined
        ? parseLengths('--eval-lens', str('eval-lens')!)
        : preset.evalLengths,
    steps: str('steps') !== undefined ? parseInteger('--steps', str('steps')!, 1) : preset.steps,
    batch: str('batch') !== undefined ? parseInteger('--batch', str('batch')!, 1) : preset.batch,
    model: {
      modelDim: dim ?? preset.model.modelDim,
      layers:
        str('layers') !== undefined
          ? parseInteger('--layers', str('layers')!, 1)
          : preset.model.layers,
      heads:
        str('heads') !== undefined ? parseInteger('--heads', str('heads')!, 1) : preset.model.heads,
      ffnDim:
        str('ffn') !== undefined
          ? parseInteger('--ffn', str('ffn')!, 1)
          : dim !== undefined
            ? 4 * dim
            : preset.model.ffnDim,
    },
    lr: str('lr') !== undefined ? parseNumber('--lr', str('lr')!) : preset.lr,
    seed: str('seed') !== undefined ? parseInteger('--seed', str('seed')!, 0) : preset.seed,
    evalSplit: evalSplit as EvalSplit,
    evalTokens:
      evalTokensText === undefined
        ? preset.evalTokens
        : evalTokensText === 'all'
          ? 'all'
          : parseInteger('--eval-tokens', evalTokensText, 1),
    strideRatio:
      str('stride-ratio') !== undefined
        ? parseNumber('--stride-ratio', str('stride-ratio')!)
        : preset.strideRatio,
  };
  const methodsText = str('methods');
  const methods =
    methodsText === undefined ? preset.methods : methodsText.split(',').map((m) => m.trim());
  if (methods.some((m) => m === ''))
    throw new UsageError(
      `--methods ${JSON.stringify(methodsText)} has an empty entry; expected names like alibi,rope`,
    );
  const out = str('out');
  if (out !== undefined && out.trim() === '') throw new UsageError('--out is empty; give a folder');
  const every = str('checkpoint-every');
  return {
    help: false,
    options: {
      config,
      methods,
      methodsExplicit: methodsText !== undefined,
      ...(out !== undefined && { out }),
      baseDir,
      command,
      ...(every !== undefined && { checkpointEvery: parseInteger('--checkpoint-every', every, 1) }),
    },
  };
}
