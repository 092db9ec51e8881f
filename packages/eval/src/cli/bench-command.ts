/**
 * `posenc bench <task> [options]` → the run's options: the engine's own flags (preset, methods,
 * seeds, out, checkpoint interval) and the task's, applied to the preset's config in the order
 * the task declares them. Every mistake is a one-line UsageError.
 */
import type { AnyHarness } from '../run/harness.js';
import { parseInteger, parseIntegerList } from '../run/numbers.js';
import type { BenchOptions } from '../run/prepare-bench.js';
import { UsageError } from '../usage-error.js';
import { parseFlags, type FlagSpec } from './args.js';

export const SEED_RANGE = { min: 0, max: 0xffffffff };
export const CHECKPOINT_RANGE = { min: 1, max: 100_000_000 };

/** The flags every task has, for the parser and the help. */
export const RUN_FLAGS = [
  { flag: 'preset', value: 'NAME', help: 'one of the presets above' },
  {
    flag: 'methods',
    value: 'a,b,c|all',
    help: "method rows to run, or 'all' (posenc list <task> shows them)",
  },
  {
    flag: 'seeds',
    value: 'a,b,c',
    help: 'seeds: each runs every method once, with its own initialisation and data order',
  },
  { flag: 'seed', value: 'N', help: 'one seed (the same as --seeds N)' },
  {
    flag: 'out',
    value: 'DIR',
    help: 'run folder (default results/<run>-<hash of the settings>)',
  },
  {
    flag: 'checkpoint-every',
    value: 'N',
    help: `steps between checkpoints (${CHECKPOINT_RANGE.min}…${CHECKPOINT_RANGE.max}; default a tenth of the steps)`,
  },
] as const;

export type ParsedBench = { help: true } | { help: false; options: BenchOptions<object> };

export function parseBenchCommand(
  harness: AnyHarness,
  args: readonly string[],
  baseDir: string,
  command: string,
): ParsedBench {
  const hint = `posenc bench ${harness.task} --help lists the options`;
  const specs: FlagSpec[] = [
    ...RUN_FLAGS.map((f) => ({ flag: f.flag, takesValue: true })),
    ...harness.options.map((o) => ({ flag: o.flag, takesValue: true })),
    { flag: 'help', takesValue: false, short: 'h' },
  ];
  const values = parseFlags(args, specs, hint);
  if (values.has('help')) return { help: true };
  const text = (flag: string) => values.get(flag) as string | undefined;

  const presetName = text('preset') ?? 'default';
  const preset = harness.presets[presetName];
  if (!preset)
    throw new UsageError(
      `--preset ${JSON.stringify(presetName)} is not a preset of ${harness.task}; expected one of ${Object.keys(harness.presets).join(', ')}`,
    );
  let config: object = structuredClone(preset.config);
  for (const option of harness.options) {
    const value = text(option.flag);
    if (value !== undefined) config = option.apply(config, value);
  }

  if (values.has('seed') && values.has('seeds'))
    throw new UsageError('--seed and --seeds are both given; give one of them');
  const seeds = values.has('seeds')
    ? parseIntegerList('--seeds', text('seeds')!, SEED_RANGE)
    : values.has('seed')
      ? [parseInteger('--seed', text('seed')!, SEED_RANGE)]
      : [...(preset.seeds ?? [0])];

  const methodsText = text('methods');
  const methods =
    methodsText === undefined ? [...preset.methods] : methodsText.split(',').map((m) => m.trim());
  if (methods.some((m) => m === ''))
    throw new UsageError(
      `--methods ${JSON.stringify(methodsText)} has an empty entry; expected names like alibi,rope`,
    );
  const out = text('out');
  if (out !== undefined && out.trim() === '') throw new UsageError('--out is empty; give a folder');
  const every = text('checkpoint-every');
  return {
    help: false,
    options: {
      harness,
      config,
      methods,
      methodsExplicit: methodsText !== undefined,
      seeds,
      ...(out !== undefined && { out }),
      baseDir,
      command,
      ...(every !== undefined && {
        checkpointEvery: parseInteger('--checkpoint-every', every, CHECKPOINT_RANGE),
      }),
    },
  };
}
