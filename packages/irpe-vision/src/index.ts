/**
 * @posenc/irpe-vision — iRPE, image relative position encoding (Wu et al. 2021, "Rethinking and
 * Improving Relative Position Encoding for Vision Transformer", microsoft/Cream `iRPE/`), and a
 * DETR-style encoder for padded batches of feature maps. Importing it registers the `irpe`
 * encoding with core's registry.
 */
import { registerEncoding } from '@posenc/core';
import { irpeDefinition } from './irpe-encoding.js';

registerEncoding(irpeDefinition);

export { IrpeEncoding, irpeDefinition } from './irpe-encoding.js';
export {
  IRPE_MODES,
  IRPE_TARGETS,
  irpeSchema,
  targetsOf,
  type IrpeConfig,
  type IrpeMode,
  type IrpeTarget,
} from './irpe-config.js';
export {
  IRPE_PACKAGE,
  IRPE_PAPER,
  irpeVariants,
  PAPER_ABSOLUTE_ENCODING,
} from './irpe-variants.js';
export {
  IRPE_METHODS,
  bucketFunctionsOf,
  bucketIds,
  gridBuckets,
  tableBuckets,
  type BucketFunction,
  type IrpeMethod,
} from './buckets/bucket-ids.js';
export {
  coefficientsOf,
  piecewiseIndex,
  roundHalfEven,
  type PiecewiseCoefficients,
} from './buckets/piecewise-index.js';
export { biasScores, bucketProducts, gatherScores, valueTerm } from './irpe-terms.js';
export {
  DetrEncoder,
  type DetrEncoderCall,
  type DetrEncoderConfig,
  type DetrEncoderOutput,
  type ImageSize,
} from './models/detr-encoder.js';
