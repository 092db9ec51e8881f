/**
 * Position-infused attention (PIA; Press, Smith & Lewis 2021, §5.1): instead of adding position
 * vectors to the token embeddings once at the bottom of the model, every layer adds fixed
 * sinusoids to the inputs of its query and key projections, never to the value projection.
 * Layer outputs are weighted sums of values, so they carry no absolute position, which is what
 * lets a cached subsequence be reused under new position labels (see `SubsequenceCache`).
 *
 * Official code (ofirpress/shortformer, `fairseq/modules/transformer_layer.py`): the model is
 * pre-LN, so the sinusoids are added to the layer-normed input,
 * `self_attn(query = x + pos_query, key = y + pos_key, value = y)`, at unit scale, and
 * `fairseq/models/transformer.py` comments out the bottom `x += positions`. Core's
 * `projectionInputs` hook receives exactly the normalised input in a pre-LN model.
 */
import {
  addSinusoids,
  sinusoidTable,
  supportedAttention,
  tf,
  type SinusoidOptions,
} from '@posenc/core';
import type {
  AttentionContext,
  AttentionKind,
  ConfigOf,
  EncodingDefinition,
  PositionEncoding,
  Schema,
} from '@posenc/core';

/**
 * The sinusoids PIA adds, `[positions.length, dim]` row-major in float64: fairseq's
 * `SinusoidalPositionalEmbedding.get_embedding` layout, `[sin | cos]` halves with frequency
 * exp(−i·ln(base)/(dim/2 − 1)), evaluated at the given position ids.
 */
export function piaTable(
  positions: readonly number[] | Float64Array,
  dim: number,
  options: { base?: number; scale?: number } = {},
): Float64Array {
  return sinusoidTable(positions, dim, {
    layout: 'fairseq',
    base: options.base ?? 10000,
    scale: options.scale ?? 1,
  });
}

export const piaSchema = {
  base: { type: 'number', greaterThan: 1, default: 10000, doc: 'wavelength base of the sinusoids' },
  scale: {
    type: 'number',
    greaterThan: 0,
    default: 1,
    doc: 'multiplies the sinusoids; 1 as in Shortformer, where they meet a layer-normed input',
  },
} as const satisfies Schema;

export type PiaConfig = ConfigOf<typeof piaSchema>;

export class PositionInfusedAttention implements PositionEncoding {
  readonly name = 'pia';

  private readonly tableOptions: SinusoidOptions;

  constructor(readonly config: PiaConfig) {
    this.tableOptions = { layout: 'fairseq', base: config.base, scale: config.scale };
  }

  get supports(): readonly AttentionKind[] {
    return supportedAttention(piaDefinition, this.config);
  }

  /** Query input + P(query positions), key input + P(key positions); values are left alone. */
  projectionInputs(
    xq: tf.Tensor3D,
    xk: tf.Tensor3D,
    ctx: AttentionContext,
  ): { xq: tf.Tensor3D; xk: tf.Tensor3D } {
    return {
      xq: addSinusoids(xq, ctx.queryPositions, this.tableOptions, 'pia (queries)'),
      xk: addSinusoids(xk, ctx.keyPositions, this.tableOptions, 'pia (keys)'),
    };
  }
}

export const piaDefinition: EncodingDefinition<typeof piaSchema> = {
  name: 'pia',
  description:
    'Position-infused attention: fairseq sinusoids added to the query and key inputs of every layer, never to values or embeddings',
  paper: 'Press, Smith & Lewis 2021, arXiv 2012.15832',
  package: '@posenc/shortformer',
  schema: piaSchema,
  supports: ['softmax', 'linear'],
  positions: { kinds: ['1d'], fractional: true },
  create: (config) => new PositionInfusedAttention(config),
};
