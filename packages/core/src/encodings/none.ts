/**
 * NoPE: no position information at all. A causal decoder still recovers positions from the
 * mask (Haviv et al. 2022; Kazemnejad et al. 2023), so this is the baseline every method is
 * compared with.
 */
import type { ConfigOf, Schema } from '../config/schema.js';
import type { AttentionKind, PositionEncoding } from '../encoding/position-encoding.js';
import { supportedAttention, type EncodingDefinition } from '../encoding/registry.js';

export const noneSchema = {} as const satisfies Schema;

export type NoneConfig = ConfigOf<typeof noneSchema>;

/** Defines no hooks, so attention runs exactly as without an encoding. */
export class NoPositionEncoding implements PositionEncoding {
  readonly name = 'none';

  constructor(readonly config: NoneConfig = {}) {}

  get supports(): readonly AttentionKind[] {
    return supportedAttention(noneDefinition, this.config);
  }
}

export const noneDefinition: EncodingDefinition<typeof noneSchema> = {
  name: 'none',
  description:
    'No positional encoding (NoPE): attention sees positions only through the causal mask',
  paper: 'Kazemnejad et al. 2023, arXiv 2305.19466',
  package: '@posenc/core',
  schema: noneSchema,
  supports: ['softmax', 'linear'],
  positions: { kinds: ['1d', '2d'], fractional: true },
  create: (config) => new NoPositionEncoding(config),
};
