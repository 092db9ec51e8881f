/**
 * The config fields every Transformer model in core shares (stack shape, attention kind,
 * regularisation, seed), so the three models validate them the same way.
 */
import { ConfigError, parseConfig, type ConfigOf, type Schema } from '../config/schema.js';
import { FEATURE_MAPS, type FeatureMapName } from '../attention/linear-attention.js';
import type { AttentionKind } from '../encoding/position-encoding.js';

export const TRANSFORMER_FIELDS = {
  modelDim: { type: 'number', integer: true, min: 1 },
  layers: { type: 'number', integer: true, min: 1 },
  heads: { type: 'number', integer: true, min: 1 },
  ffnDim: { type: 'number', integer: true, min: 1, optional: true, doc: 'default 4·modelDim' },
  attention: { type: 'enum', values: ['softmax', 'linear'], default: 'softmax' },
  featureMap: {
    type: 'enum',
    values: [...FEATURE_MAPS, 'favor+'],
    default: 'elu+1',
    doc: "linear attention only; 'favor+' = Performer's positive orthogonal random features",
  },
  randomFeatures: {
    type: 'number',
    integer: true,
    min: 1,
    default: 256,
    doc: "random features m of featureMap 'favor+'",
  },
  dropout: { type: 'number', min: 0, max: 0.99, default: 0 },
  seed: { type: 'number', integer: true, min: 0, default: 0 },
} as const satisfies Schema;

/** What a caller passes for the shared fields. */
export interface TransformerConfig {
  modelDim: number;
  layers: number;
  heads: number;
  ffnDim?: number;
  attention?: AttentionKind;
  featureMap?: FeatureMapName | 'favor+';
  randomFeatures?: number;
  dropout?: number;
  seed?: number;
}

/**
 * Validates a model config against its schema (which spreads TRANSFORMER_FIELDS), fills
 * `ffnDim` (4·modelDim, as in Vaswani et al.) and checks that the heads divide the width.
 */
export function parseTransformerConfig<S extends typeof TRANSFORMER_FIELDS & Schema>(
  owner: string,
  schema: S,
  config: object,
): ConfigOf<S> & { ffnDim: number } {
  const c = parseConfig(owner, schema, config as Record<string, unknown>) as ConfigOf<S> & {
    modelDim: number;
    heads: number;
    ffnDim?: number;
  };
  if (c.modelDim % c.heads !== 0)
    throw new ConfigError(owner, 'heads', c.heads, `must divide modelDim = ${c.modelDim}`);
  return { ...c, ffnDim: c.ffnDim ?? 4 * c.modelDim };
}
