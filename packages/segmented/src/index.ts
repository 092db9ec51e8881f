/**
 * @posenc/segmented — training on segmented sequences (Karypis, McAuley & Karypis 2024, arXiv
 * 2310.14633): chunk-α and prefix-α samples of long documents that keep their original position
 * ids, batches and loss for core's models and trainer, and linear interpolation of a learned
 * absolute position table to r times its length.
 */
export { sortedDistinct, type Segment, type SegmentOptions } from './segment-options.js';
export { sampleChunks, type ChunkSegment } from './chunk-sampler.js';
export { samplePrefix, type PrefixSegment } from './prefix-sampler.js';
export {
  segmentBatch,
  segmentLoss,
  segmentRows,
  type SegmentBatch,
  type SegmentBatchOptions,
  type SegmentMethod,
  type SegmentRow,
} from './segment-batch.js';
export { interpolatePositionTable } from './interpolate-table.js';
export { extendPositionTable, type ExtendOptions } from './extend-model.js';
export {
  CHUNK_ALPHA,
  PAPER,
  SEGMENTED_PROCEDURES,
  type InterpolationProcedure,
  type SegmentedProcedure,
  type SegmentProcedure,
} from './procedures.js';
