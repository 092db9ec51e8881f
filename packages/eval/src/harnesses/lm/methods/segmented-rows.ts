/**
 * Rows from @posenc/segmented (Karypis, McAuley & Karypis 2024, arXiv 2310.14633), one per
 * procedure the package declares (`SEGMENTED_PROCEDURES`):
 *
 * - segment rows: Lt tokens made of 1/α segments drawn from a window of Le = the longest
 *   evaluation length, anywhere in the training stream, at their positions in that window;
 *   evaluation is the standard one. A learned table gets Le rows.
 * - `learned+interpolate`: trained as `learned`; at an evaluation length E > Lt the table is
 *   stretched to ⌈E/Lt⌉·Lt rows by the paper's linear interpolation, without further training.
 */
import { createEncoding, type EncodingConfig } from '@posenc/core';
import type * as Segmented from '@posenc/segmented';
import { importPlugin, requireEncoding, requireExports } from '../../../run/plugin-import.js';
import { longestEvalLength } from '../config.js';
import { decoderScorer } from '../evaluation/decoder-scorer.js';
import { evaluatePerplexity } from '../evaluation/perplexity.js';
import type { LMRow, LMSession, LMSessionContext } from './session.js';
import { createModel, standardSession, type PositionedBatch } from './standard-session.js';

const PACKAGE = '@posenc/segmented';
type SegmentedModule = typeof Segmented;

export function segmentedRows(module: Record<string, unknown> | undefined): LMRow[] {
  if (!module) return [];
  const api = module as Partial<SegmentedModule>;
  const paper = api.PAPER ?? 'Karypis, McAuley & Karypis 2024, arXiv 2310.14633';
  return (api.SEGMENTED_PROCEDURES ?? []).map((procedure) =>
    procedure.kind === 'interpolation'
      ? interpolationRow(procedure, paper, module)
      : segmentRow(procedure, paper, module),
  );
}

function interpolationRow(
  procedure: Segmented.InterpolationProcedure,
  paper: string,
  module: Record<string, unknown>,
): LMRow {
  return {
    name: procedure.name,
    description: procedure.description,
    paper,
    package: PACKAGE,
    prepare: async () => {
      const { extendPositionTable } = requireExports(procedure.name, PACKAGE, module, [
        'extendPositionTable',
      ]) as unknown as Pick<SegmentedModule, 'extendPositionTable'>;
      return (context) => {
        const model = createModel(context, [createEncoding(procedure.encoding)]);
        const session = standardSession(context, model, {
          notes: [
            'trained as learned; at an evaluation length E > L the position table is interpolated to ⌈E/L⌉·L rows',
          ],
        });
        return {
          ...session,
          evaluate: async (segments, spec) => {
            const r = Math.ceil(spec.length / context.config.trainLength);
            if (r === 1) return session.evaluate(segments, spec);
            const extended = extendPositionTable(model, r);
            try {
              return await evaluatePerplexity(segments, spec, decoderScorer(extended));
            } finally {
              extended.dispose();
            }
          },
        };
      };
    },
  };
}

function segmentRow(
  procedure: Segmented.SegmentProcedure,
  paper: string,
  module: Record<string, unknown>,
): LMRow {
  const segments = 1 / procedure.alpha;
  return {
    name: procedure.name,
    description: procedure.description,
    paper,
    package: PACKAGE,
    checkConfig: ({ trainLength }) =>
      Number.isInteger(trainLength * procedure.alpha)
        ? undefined
        : `--train-len ${trainLength} must be a multiple of ${segments} for ${procedure.name} (segments of α·L tokens)`,
    prepare: async () => {
      const { segmentBatch } = requireExports(procedure.name, PACKAGE, module, [
        'segmentBatch',
      ]) as unknown as Pick<SegmentedModule, 'segmentBatch'>;
      // The base encoding may come from another plugin (rope): the row needs that package too.
      if (procedure.encodingPackage) {
        await importPlugin(procedure.name, procedure.encodingPackage);
        requireEncoding(procedure.name, procedure.encodingPackage, procedure.encoding.name);
      }
      return (context) => segmentSession(context, procedure, segmentBatch);
    },
  };
}

function segmentSession(
  context: LMSessionContext,
  procedure: Segmented.SegmentProcedure,
  segmentBatch: SegmentedModule['segmentBatch'],
): LMSession {
  const { trainLength, batch } = context.config;
  const window = Math.max(trainLength, longestEvalLength(context.config));
  const model = createModel(
    context,
    [createEncoding(procedure.encoding as EncodingConfig)],
    procedure.tableCoversWindow ? window : trainLength,
  );
  // The training stream is one long document; windows of Le are drawn anywhere in it.
  const train = context.data.train.tokens;
  const documents = [train instanceof Int32Array ? train : Int32Array.from(train)];
  return standardSession(context, model, {
    batchAt: (step) =>
      segmentBatch(
        {
          documents,
          batch,
          trainLength,
          alpha: procedure.alpha,
          method: procedure.method,
          extendedLength: window,
          seed: context.seed,
        },
        step,
      ) as PositionedBatch,
    notes: [
      `trained on ${1 / procedure.alpha} ${procedure.method === 'chunk' ? 'chunks' : 'segments'} of ${trainLength * procedure.alpha} tokens from windows of Le = ${window}, at their positions in the window${procedure.tableCoversWindow ? `; position table of ${window} rows` : ''}`,
    ],
  });
}
