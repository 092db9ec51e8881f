/**
 * Language-modelling batches of segments: each row is one segment of one document, its tokens
 * at the sampled ids, each token's target the document's true next token, and the ids fed to the
 * model as explicit positions. Rows are a pure function of (seed, step, row), so core's trainer
 * can resume exactly.
 */
import {
  generatorFor,
  tf,
  type DecoderLM,
  type SequencePositions,
  type TrainBatch,
} from '@posenc/core';
import { sampleChunks } from './chunk-sampler.js';
import { samplePrefix } from './prefix-sampler.js';
import { assertInteger, type Segment } from './segment-options.js';

export type SegmentMethod = 'chunk' | 'prefix';

export interface SegmentBatchOptions {
  /** Token ids of each document; segments never cross a document's end. */
  documents: readonly Int32Array[];
  /** Rows B. */
  batch: number;
  /** Lt. */
  trainLength: number;
  alpha: number;
  method: SegmentMethod;
  /** Le (see `SegmentOptions.extendedLength`); default: each document's whole length. */
  extendedLength?: number;
  seed: number;
}

export interface SegmentBatch extends TrainBatch {
  /** `[B, Lt]` int32 tokens at the sampled ids. */
  inputs: tf.Tensor2D;
  /** `[B, Lt]` int32 the token after each input in its document. */
  targets: tf.Tensor2D;
  /** `[B, Lt]` the sampled ids. */
  positions: SequencePositions;
  /** `[B, Lt]` 1 where the loss counts (prefix-α: the suffix); absent for chunk-α. */
  lossMask?: tf.Tensor2D;
  tokens: number;
}

/** Which document each row samples and the segment drawn from it (host-side, for inspection). */
export interface SegmentRow {
  document: number;
  segment: Segment & { lossMask?: Uint8Array };
}

/**
 * The rows of batch `step`. A document is chosen with probability proportional to the positions
 * it offers (like drawing a random token of the corpus); documents shorter than Lt + 1 tokens
 * are never chosen.
 */
export function segmentRows(options: SegmentBatchOptions, step: number): SegmentRow[] {
  const who = 'segmentBatch';
  const { documents, batch, trainLength, alpha, method, extendedLength, seed } = options;
  assertInteger(who, 'batch', batch, 1);
  assertInteger(who, 'step', step, 0);
  if (method !== 'chunk' && method !== 'prefix')
    throw new Error(
      `${who}: method = ${JSON.stringify(method)} is not allowed; expected 'chunk' or 'prefix'`,
    );
  const usable = documents.map((d) => (d.length - 1 >= trainLength ? d.length - 1 : 0));
  const total = usable.reduce((a, b) => a + b, 0);
  if (total === 0)
    throw new Error(
      `${who}: no document has the trainLength + 1 = ${trainLength + 1} tokens a sample needs (longest: ${Math.max(0, ...documents.map((d) => d.length))})`,
    );
  const sample = method === 'chunk' ? sampleChunks : samplePrefix;
  return Array.from({ length: batch }, (_, row) => {
    const next = generatorFor(seed, step, row);
    let pick = next() * total;
    let document = usable.findIndex((u) => (pick -= u) < 0);
    // Rounding can leave `pick` a hair above the total: take the last usable document.
    if (document < 0) for (let d = 0; d < usable.length; d++) if (usable[d]! > 0) document = d;
    const segmentSeed = Math.floor(next() * 0x100000000);
    const segment = sample({
      sourceLength: usable[document]!,
      trainLength,
      alpha,
      extendedLength,
      seed: segmentSeed,
    });
    return { document, segment };
  });
}

/** Tensors for batch `step` (the caller, or core's trainer, disposes them). */
export function segmentBatch(options: SegmentBatchOptions, step: number): SegmentBatch {
  const rows = segmentRows(options, step);
  const { trainLength: n, documents } = options;
  const inputs = new Int32Array(rows.length * n);
  const targets = new Int32Array(rows.length * n);
  const ids = new Float32Array(rows.length * n);
  const mask = options.method === 'prefix' ? new Float32Array(rows.length * n) : undefined;
  rows.forEach(({ document, segment }, row) => {
    const tokens = documents[document]!;
    segment.ids.forEach((id, i) => {
      const at = segment.offset + id;
      inputs[row * n + i] = tokens[at]!;
      targets[row * n + i] = tokens[at + 1]!;
      ids[row * n + i] = id;
      if (mask) mask[row * n + i] = segment.lossMask![i]!;
    });
  });
  const shape: [number, number] = [rows.length, n];
  return {
    inputs: tf.tensor2d(inputs, shape, 'int32'),
    targets: tf.tensor2d(targets, shape, 'int32'),
    positions: { kind: '1d', ids: tf.tensor2d(ids, shape, 'float32') },
    ...(mask && { lossMask: tf.tensor2d(mask, shape, 'float32') }),
    tokens: rows.length * n,
  };
}

/** Mean next-token loss of a segment batch: its ids as positions, prefix-α's mask applied. */
export function segmentLoss(
  model: DecoderLM,
  batch: SegmentBatch,
  call: { training?: boolean; dropoutSeed?: number } = {},
): tf.Scalar {
  return model.loss(batch.inputs, batch.targets, {
    positions: batch.positions,
    ...(batch.lossMask && { lossMask: batch.lossMask }),
    training: call.training,
    dropoutSeed: call.dropoutSeed,
  });
}
