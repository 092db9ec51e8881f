/**
 * Rows from @posenc/shortformer (Press, Smith & Lewis 2021, arXiv 2012.15832), each on its own
 * procedure: unshuffled contiguous streams (one per batch row), staged subsequence lengths with
 * tokens per batch fixed, optimizer state carried across stages.
 *
 * - `shortformer`: position-infused attention + the cache of the previous subsequence (L′ = L)
 *   + staged training, L/4 for the first half of the steps then L (the paper's 128 → 512 for 50%
 *   of training, §6). Nonoverlapping evaluation uses the cache, as the paper evaluates it.
 * - `sinusoidal+staged`: the staged baseline of §4 — sinusoids at the input, no cache — L/4 for
 *   the first quarter (the paper's best 128 for 50 of 205 epochs), then L.
 */
import {
  createEncoding,
  tf,
  type DecoderLM,
  type StepContext,
  type TrainBatch,
} from '@posenc/core';
import type { TokenArray } from '../data/token-array.js';
import { evaluateWithCache, type BlockCache } from '../lm/cached-evaluation.js';
import { decoderScorer } from '../lm/decoder-scorer.js';
import { evaluatePerplexity } from '../lm/perplexity.js';
import type { LMMethod, MethodContext, MethodFactory, MethodSession } from './method.js';
import { importPlugin, requireEncoding, requireExports } from './plugin-import.js';
import { createModel } from './standard-session.js';

const PACKAGE = '@posenc/shortformer';
const PAPER = 'Press, Smith & Lewis 2021, arXiv 2012.15832';

interface Stage {
  length: number;
  share: number;
}

/** What the benchmark uses of @posenc/shortformer, checked at import. */
interface ShortformerApi {
  StagedSchedule: new (options: {
    stages: readonly Stage[];
    tokensPerBatch: number;
    totalSteps: number;
    defaultCache: 'length' | 0;
  }) => unknown;
  shortformerTraining: (options: { model: DecoderLM; tokens: Int32Array; schedule: unknown }) => {
    batchAt(step: number, micro: number): TrainBatch;
    loss(batch: TrainBatch, context: StepContext): tf.Scalar;
    dispose(): void;
  };
  SubsequenceCache: new (options: { cacheLength: number; firstPosition?: number }) => BlockCache;
}

/** Shortformer numbers the first token of a window 1 (Fig. 1c); the package exports it. */
const DEFAULT_FIRST_POSITION = 1;

interface StagedRow {
  name: string;
  description: string;
  encoding: string;
  /** Share of the steps at L/4 before the rest at L. */
  shortShare: number;
  cache: boolean;
}

const ROWS: StagedRow[] = [
  {
    name: 'shortformer',
    description: `position-infused attention + cache of the previous subsequence (L′ = L) + staged training (L/4 for half the steps, then L)`,
    encoding: 'pia',
    shortShare: 0.5,
    cache: true,
  },
  {
    name: 'sinusoidal+staged',
    description:
      'sinusoids at the input, staged training (L/4 for the first quarter, then L), no cache',
    encoding: 'sinusoidal',
    shortShare: 0.25,
    cache: false,
  },
];

export function shortformerMethods(): LMMethod[] {
  return ROWS.map((row) => ({
    name: row.name,
    description: row.description,
    paper: PAPER,
    package: PACKAGE,
    checkConfig: ({ trainLength, steps }) => {
      if (trainLength % 4 !== 0)
        return `--train-len ${trainLength} must be a multiple of 4 for ${row.name} (its first stage trains at L/4)`;
      if (Math.round(row.shortShare * steps) < 1 || Math.round(row.shortShare * steps) >= steps)
        return `--steps ${steps} leaves no step for one of ${row.name}'s two stages`;
      return undefined;
    },
    prepare: async () => {
      const module = await importPlugin(row.name, PACKAGE);
      const api = requireExports(row.name, PACKAGE, module, [
        'StagedSchedule',
        'shortformerTraining',
        'SubsequenceCache',
      ]) as unknown as ShortformerApi;
      if (row.encoding === 'pia') requireEncoding(row.name, PACKAGE, 'pia');
      const firstPosition =
        typeof module['FIRST_WINDOW_POSITION'] === 'number'
          ? module['FIRST_WINDOW_POSITION']
          : DEFAULT_FIRST_POSITION;
      const factory: MethodFactory = (context) => stagedSession(context, row, api, firstPosition);
      return factory;
    },
  }));
}

function stagedSession(
  context: MethodContext,
  row: StagedRow,
  api: ShortformerApi,
  firstPosition: number,
): MethodSession {
  const { trainLength, batch, steps } = context;
  const model = createModel(context, [createEncoding({ name: row.encoding })]);
  const schedule = new api.StagedSchedule({
    stages: [
      { length: trainLength / 4, share: row.shortShare },
      { length: trainLength, share: 1 - row.shortShare },
    ],
    tokensPerBatch: batch * trainLength,
    totalSteps: steps,
    defaultCache: row.cache ? 'length' : 0,
  });
  const tokens =
    context.trainTokens instanceof Int32Array
      ? context.trainTokens
      : Int32Array.from(context.trainTokens);
  const plan = api.shortformerTraining({ model, tokens, schedule });
  const scorer = decoderScorer(model, firstPosition);
  const evaluateWindows = (
    segments: readonly TokenArray[],
    spec: Parameters<MethodSession['evaluate']>[1],
  ) => evaluatePerplexity(segments, spec, scorer);
  return {
    model,
    notes: [
      `trained on unshuffled contiguous streams (one per batch row), stages ${trainLength / 4} → ${trainLength} with ${batch * trainLength} tokens per batch${row.cache ? `, cache of the previous subsequence (L′ = L)` : ''}; window positions start at ${firstPosition}`,
    ],
    ...(row.cache && {
      evalModeNotes: {
        nonoverlapping: 'with the cache of the previous block (L′ = L)',
        sliding: 'windows without the cache',
      },
    }),
    batchAt: (step, micro) => plan.batchAt(step, micro),
    loss: (b, c) => plan.loss(b, c),
    evaluate: (segments, spec) =>
      row.cache && spec.mode === 'nonoverlapping'
        ? evaluateWithCache(
            model,
            segments,
            spec,
            () => new api.SubsequenceCache({ cacheLength: spec.length, firstPosition }),
          )
        : evaluateWindows(segments, spec),
    dispose: () => {
      plan.dispose();
      model.dispose();
    },
  };
}
