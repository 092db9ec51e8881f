/** Build specs for tests that build an encoding without a model. */
import type { EncodingBuildSpec, EncodingSizes } from '../encoding/position-encoding.js';
import { MODEL_PARAMETER_SCOPES, type ParameterScopes } from '../encoding/parameter-scopes.js';

/** A small model's sizes: 2 layers of 2 heads of 8 features, 16 positions. */
export const SMALL_SIZES: EncodingSizes = {
  layers: 2,
  heads: 2,
  headDim: 8,
  modelDim: 16,
  maxPositions: 16,
  seed: 7,
};

/** `SMALL_SIZES` with `sizes` changed (modelDim follows heads·headDim unless given), under `scopes`. */
export function testBuildSpec(
  sizes: Partial<EncodingSizes> = {},
  scopes: ParameterScopes = MODEL_PARAMETER_SCOPES,
): EncodingBuildSpec {
  const merged = { ...SMALL_SIZES, ...sizes };
  return {
    ...merged,
    modelDim: sizes.modelDim ?? merged.heads * merged.headDim,
    scopes,
  };
}
