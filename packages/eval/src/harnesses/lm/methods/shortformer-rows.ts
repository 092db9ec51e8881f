/**
 * Rows from @posenc/shortformer (Press, Smith & Lewis 2021, arXiv 2012.15832), one per procedure
 * the package declares (`SHORTFORMER_PROCEDURES`), each on its own procedure: staged
 * subsequence lengths with tokens per batch fixed and the optimizer state and learning-rate
 * schedule carried across stages, on unshuffled contiguous streams (one per batch row) or
 * shuffled subsequences as the procedure says; with the cache, each subsequence attends to the
 * previous one, and both evaluation modes carry the cache, as the method is meant to be run.
 */
import { createEncoding } from '@posenc/core';
import type * as Shortformer from '@posenc/shortformer';
import { requireEncoding, requireExports } from '../../../run/plugin-import.js';
import { evaluateWithCache } from '../evaluation/cached-evaluation.js';
import { decoderScorer } from '../evaluation/decoder-scorer.js';
import { evaluatePerplexity } from '../evaluation/perplexity.js';
import type { LMRow, LMSession, LMSessionContext } from './session.js';
import { createModel } from './standard-session.js';

const PACKAGE = '@posenc/shortformer';
const PAPER = 'Press, Smith & Lewis 2021, arXiv 2012.15832';

type ShortformerModule = typeof Shortformer;
type Procedure = Shortformer.ShortformerProcedure;

const CONTEXT_NOTES: Record<Shortformer.CacheContext, string> = {
  cache: 'cache of the previous subsequence',
  'fresh-cache':
    'cache of the previous subsequence recomputed under the current weights before every step',
  window: 'the previous subsequence in front of each one, in one pass with full gradient',
};

/** Stage lengths in tokens for a final length L, or a reason they do not fit. */
function stageLengths(procedure: Procedure, trainLength: number): number[] | string {
  const lengths = procedure.stages.map((s) => s.lengthRatio * trainLength);
  const bad = lengths.find((l) => !Number.isInteger(l) || l < 1);
  if (bad !== undefined)
    return `--train-len ${trainLength} gives ${procedure.name} a stage of ${bad} tokens; it needs a multiple of ${Math.round(1 / Math.min(...procedure.stages.map((s) => s.lengthRatio)))}`;
  return lengths;
}

export function shortformerRows(module: Record<string, unknown> | undefined): LMRow[] {
  if (!module) return [];
  const procedures = (module as Partial<ShortformerModule>).SHORTFORMER_PROCEDURES ?? [];
  return procedures.map((procedure) => ({
    name: procedure.name,
    description: procedure.description,
    paper: PAPER,
    package: PACKAGE,
    checkConfig: ({ trainLength, steps }) => {
      const lengths = stageLengths(procedure, trainLength);
      if (typeof lengths === 'string') return lengths;
      const short = Math.round(procedure.stages[0]!.share * steps);
      if (procedure.stages.length > 1 && (short < 1 || short >= steps))
        return `--steps ${steps} leaves no step for one of ${procedure.name}'s stages`;
      const cacheLength = (procedure.cacheRatio ?? 1) * trainLength;
      if (procedure.cache && !Number.isInteger(cacheLength))
        return `--train-len ${trainLength} gives ${procedure.name} a cache of ${cacheLength} tokens; it needs a multiple of ${1 / procedure.cacheRatio!}`;
      return undefined;
    },
    prepare: async () => {
      const api = requireExports(procedure.name, PACKAGE, module, [
        'StagedSchedule',
        'shortformerTraining',
        'SubsequenceCache',
      ]) as unknown as Pick<
        ShortformerModule,
        'StagedSchedule' | 'shortformerTraining' | 'SubsequenceCache'
      >;
      requireEncoding(procedure.name, PACKAGE, procedure.encoding);
      const firstPosition = (module as Partial<ShortformerModule>).FIRST_WINDOW_POSITION ?? 1;
      return (context) => stagedSession(context, procedure, api, firstPosition);
    },
  }));
}

function stagedSession(
  context: LMSessionContext,
  procedure: Procedure,
  api: Pick<ShortformerModule, 'StagedSchedule' | 'shortformerTraining' | 'SubsequenceCache'>,
  firstPosition: number,
): LMSession {
  const { trainLength, batch, steps } = context.config;
  const lengths = stageLengths(procedure, trainLength) as number[];
  const model = createModel(context, [createEncoding({ name: procedure.encoding })]);
  const ratio = procedure.cache ? (procedure.cacheRatio ?? 1) : 0;
  const schedule = new api.StagedSchedule({
    stages: procedure.stages.map((s, i) => ({
      length: lengths[i]!,
      share: s.share,
      cacheLength: Math.round(ratio * lengths[i]!),
    })),
    tokensPerBatch: batch * trainLength,
    totalSteps: steps,
  });
  const train = context.data.train.tokens;
  const tokens = train instanceof Int32Array ? train : Int32Array.from(train);
  const shuffled = procedure.order === 'shuffled';
  const plan = api.shortformerTraining({
    model,
    tokens,
    schedule,
    ...(shuffled && { shuffle: { seed: context.seed } }),
    ...(procedure.context && { context: procedure.context }),
  });
  const scorer = decoderScorer(model, firstPosition);
  const data = shuffled
    ? 'shuffled subsequences (random offsets, the same for every method of a seed at the same length)'
    : 'unshuffled contiguous streams (one per batch row)';
  const cacheShare = ratio === 1 ? 'N' : `${ratio}·N`;
  return {
    model,
    notes: [
      `trained on ${data}, stages ${lengths.join(' → ')} with ${batch * trainLength} tokens per batch${procedure.cache ? `, ${CONTEXT_NOTES[procedure.context ?? 'cache']} (L′ = ${ratio === 1 ? '' : `${ratio}·`}L)` : ''}; window positions start at ${firstPosition}`,
    ],
    ...(procedure.cache && {
      evalModeNotes: {
        nonoverlapping: `with the cache of the previous block (L′ = ${cacheShare}), the first block of a segment with the tokens before it`,
        sliding: `with the cache of the ${cacheShare} tokens before each window`,
      },
    }),
    parameters: () => model.parameters(),
    batchAt: (step, micro) => plan.batchAt(step, micro),
    // batchAt made these batches: the plan's own.
    loss: (b, c) => plan.loss(b as Shortformer.ShortformerBatch, c),
    evaluate: (segments, spec, contexts) =>
      procedure.cache
        ? evaluateWithCache(
            model,
            segments,
            spec,
            () =>
              new api.SubsequenceCache({
                cacheLength: Math.round(ratio * spec.length),
                firstPosition,
              }),
            contexts,
          )
        : evaluatePerplexity(segments, spec, scorer),
    dispose: () => {
      plan.dispose();
      model.dispose();
    },
  };
}
