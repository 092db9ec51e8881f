/**
 * NoPE: no position information at all. A causal decoder still recovers positions from the
 * mask (Haviv et al. 2022; Kazemnejad et al. 2023), so this is the baseline every method is
 * compared with.
 */
import type { Schema } from '../config/schema.js';
import type { AttentionKind, PositionEncoding } from '../encoding/position-encoding.js';
import type { EncodingDefinition } from '../encoding/registry.js';

export const noneSchema = {} as const satisfies Schema;

/** Defines no hooks, so attention runs exactly as without an encoding. */
export class NoPositionEncoding implements PositionEncoding {
  readonly name = 'none';
  readonly supports: readonly AttentionKind[] = ['softmax', 'linear'];
}

export const noneDefinition: EncodingDefinition<typeof noneSchema> = {
  name: 'none',
  description:
    'No positional encoding (NoPE): attention sees positions only through the causal mask',
  paper: 'Kazemnejad et al. 2023, arXiv 2305.19466',
  package: '@posenc/core',
  supports: ['softmax', 'linear'],
  schema: noneSchema,
  create: () => new NoPositionEncoding(),
};
