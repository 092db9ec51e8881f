/**
 * Rows from @posenc/segmented.
 *
 * chunk-α rows (Karypis, McAuley & Karypis 2024, arXiv 2310.14633): the
 * model trains on Lt tokens made of 1/α chunks of α·Lt contiguous tokens drawn in order from a
 * window of Le consecutive tokens, every token at its original position in that window, so it
 * sees the distances of a long input at the cost of a short one. Here Le is the longest
 * evaluation length and the window is drawn anywhere in the training stream; α = 0.25 as the
 * paper recommends. Evaluation is the standard one. `learned+chunk0.25` gets a table of Le rows.
 *
 * `learned+interpolate`: the learned absolute table trained at Lt as in `learned`, then for an
 * evaluation length E > Lt stretched to r·Lt rows, r = ⌈E/Lt⌉, by the paper's linear
 * interpolation (P′[j] = P[i] + (k/r)(P[i+1] − P[i]), i = ⌊j/r⌋, k = j mod r), without further
 * training: a position p is read between the trained rows p/r and p/r + 1.
 */
import {
  createEncoding,
  type DecoderLM,
  type EncodingConfig,
  type TrainBatch,
  type tf,
} from '@posenc/core';
import { decoderScorer } from '../lm/decoder-scorer.js';
import { evaluatePerplexity } from '../lm/perplexity.js';
import type { LMMethod, MethodContext } from './method.js';
import { importPlugin, requireEncoding, requireExports } from './plugin-import.js';
import { createModel, standardSession, type PositionedBatch } from './standard-session.js';

const PACKAGE = '@posenc/segmented';
const PAPER = 'Karypis, McAuley & Karypis 2024, arXiv 2310.14633';
export const CHUNK_ALPHA = 0.25;

interface SegmentedApi {
  extendPositionTable: (model: DecoderLM, r: number) => DecoderLM;
  segmentBatch: (
    options: {
      documents: readonly Int32Array[];
      batch: number;
      trainLength: number;
      alpha: number;
      method: 'chunk';
      extendedLength?: number;
      seed: number;
    },
    step: number,
  ) => TrainBatch & PositionedBatch;
}

interface ChunkRow {
  base: string;
  encoding: EncodingConfig;
  /** Position table sized for Le rather than Lt. */
  tableCoversExtendedLength: boolean;
  /** Plugin that registers the encoding, when it is not core's. */
  encodingPackage?: string;
}

const ROWS: ChunkRow[] = [
  { base: 'learned', encoding: { name: 'learned' }, tableCoversExtendedLength: true },
  { base: 'sinusoidal', encoding: { name: 'sinusoidal' }, tableCoversExtendedLength: false },
  { base: 'alibi', encoding: { name: 'alibi' }, tableCoversExtendedLength: false },
  {
    base: 'rope',
    encoding: { name: 'rope' },
    tableCoversExtendedLength: false,
    encodingPackage: '@posenc/roformer',
  },
];

export function chunkRowName(base: string, alpha = CHUNK_ALPHA): string {
  return `${base}+chunk${alpha}`;
}

export function segmentedMethods(): LMMethod[] {
  return [...ROWS.map(chunkMethod), interpolationMethod()];
}

function interpolationMethod(): LMMethod {
  const name = 'learned+interpolate';
  return {
    name,
    description:
      'learned absolute positions trained at L, the table linearly interpolated to ⌈E/L⌉·L rows to evaluate at E > L',
    paper: PAPER,
    package: PACKAGE,
    prepare: async () => {
      const module = await importPlugin(name, PACKAGE);
      const api = requireExports(name, PACKAGE, module, ['extendPositionTable']) as unknown as Pick<
        SegmentedApi,
        'extendPositionTable'
      >;
      return (context) => {
        const model = createModel(context, [createEncoding({ name: 'learned' })]);
        const session = standardSession(context, model, {
          notes: [
            'trained as learned; at an evaluation length E > L the position table is interpolated to ⌈E/L⌉·L rows',
          ],
        });
        return {
          ...session,
          evaluate: async (segments, spec) => {
            const r = Math.ceil(spec.length / context.trainLength);
            if (r === 1) return session.evaluate(segments, spec);
            const extended = api.extendPositionTable(model, r);
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

function chunkMethod(row: ChunkRow): LMMethod {
  const name = chunkRowName(row.base);
  return {
    name,
    description: `${row.base} trained on chunk-α segments (α = ${CHUNK_ALPHA}) keeping their original positions within the longest evaluation length`,
    paper: PAPER,
    package: PACKAGE,
    checkConfig: ({ trainLength }) =>
      Number.isInteger(trainLength * CHUNK_ALPHA)
        ? undefined
        : `--train-len ${trainLength} must be a multiple of ${1 / CHUNK_ALPHA} for ${name} (chunks of α·L tokens)`,
    prepare: async () => {
      const module = await importPlugin(name, PACKAGE);
      const api = requireExports(name, PACKAGE, module, ['segmentBatch']) as unknown as Pick<
        SegmentedApi,
        'segmentBatch'
      >;
      // The base encoding may come from a plugin (rope): the row needs that package too.
      if (row.encodingPackage) {
        await importPlugin(name, row.encodingPackage);
        requireEncoding(name, row.encodingPackage, row.encoding.name);
      }
      return (context) => chunkSession(context, row, api);
    },
  };
}

function chunkSession(
  context: MethodContext,
  row: ChunkRow,
  api: Pick<SegmentedApi, 'segmentBatch'>,
) {
  const { trainLength, longestEvalLength, batch, seed } = context;
  const extendedLength = Math.max(trainLength, longestEvalLength);
  const model: DecoderLM = createModel(
    context,
    [createEncoding(row.encoding)],
    row.tableCoversExtendedLength ? extendedLength : trainLength,
  );
  // The training stream is one long document; windows of Le are drawn anywhere in it.
  const documents = [
    context.trainTokens instanceof Int32Array
      ? context.trainTokens
      : Int32Array.from(context.trainTokens),
  ];
  return standardSession(context, model, {
    batchAt: (step) =>
      api.segmentBatch(
        {
          documents,
          batch,
          trainLength,
          alpha: CHUNK_ALPHA,
          method: 'chunk',
          extendedLength,
          seed,
        },
        step,
      ) as PositionedBatch & { lossMask?: tf.Tensor2D },
    notes: [
      `trained on ${1 / CHUNK_ALPHA} chunks of ${trainLength * CHUNK_ALPHA} tokens from windows of Le = ${extendedLength}, at their positions in the window${row.tableCoversExtendedLength ? `; position table of ${extendedLength} rows` : ''}`,
    ],
  });
}
