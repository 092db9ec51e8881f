/**
 * Relative position embeddings that interact with both queries and keys (Huang et al. 2020,
 * Method 4), as Hugging Face BERT's `position_embedding_type="relative_key_query"`:
 * e_ij = (q_i·k_j + q_i·p_ij + k_j·p_ij)/√D with p_ij a learned vector for the distance i − j.
 */
import { tf } from '../engine/tf.js';
import type { ConfigOf, Schema } from '../config/schema.js';
import type {
  AttentionContext,
  AttentionKind,
  EncodingBuildSpec,
  PositionEncoding,
} from '../encoding/position-encoding.js';
import { supportedAttention, type EncodingDefinition } from '../encoding/registry.js';
import { layerScopes, scopedName } from '../encoding/parameter-scopes.js';
import { normalParameter } from '../nn/init.js';
import { relativeDistances, require1D, type SequencePositions } from '../positions/positions.js';
import { relativeLogits } from './shaw-relative.js';

/**
 * Rows of the `[2M−1, D]` distance table `[B,Nq,Nk]` int32: HF's `distance + max_position_embeddings
 * − 1` with distance = query − key. Distances past ±(M−1), which would index outside HF's
 * table, are clamped to the end rows; fractional distances are rounded, half to even.
 */
export function distanceTableRows(
  query: SequencePositions,
  key: SequencePositions,
  maxPositions: number,
): tf.Tensor3D {
  return tf.tidy(() => {
    const distance = tf.round(tf.neg(relativeDistances(query, key)));
    const clamped = tf.clipByValue(distance, -(maxPositions - 1), maxPositions - 1);
    return tf.cast(tf.add(clamped, maxPositions - 1), 'int32');
  }) as tf.Tensor3D;
}

export type KeyQueryMode = 'key_query' | 'key';

/**
 * The logit bias `[B,H,Nq,Nk]`: (q_i·p_ij + k_j·p_ij)/√D for `key_query`, q_i·p_ij/√D for `key`
 * (HF `relative_key`). HF adds these terms before dividing the scores by √D; core adds biases
 * after, so the division happens here.
 */
export function keyQueryBias(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  table: tf.Tensor2D,
  rows: tf.Tensor3D,
  mode: KeyQueryMode,
): tf.Tensor4D {
  return tf.tidy(() => {
    let bias: tf.Tensor4D = relativeLogits(q, table, rows);
    if (mode === 'key_query') {
      // k_j·p_ij: the same lookup seen from the keys, then swapped back to [query, key].
      const fromKeys = relativeLogits(k, table, tf.transpose(rows, [0, 2, 1]));
      bias = tf.add(bias, tf.transpose(fromKeys, [0, 1, 3, 2]));
    }
    return tf.mul(bias, 1 / Math.sqrt(q.shape[3]));
  }) as tf.Tensor4D;
}

export const keyQueryRelativeSchema = {
  mode: {
    type: 'enum',
    values: ['key_query', 'key'],
    default: 'key_query',
    doc: "'key_query' = q·p + k·p (Huang et al. Method 4, HF relative_key_query); 'key' = q·p only (HF relative_key)",
  },
} as const satisfies Schema;

export type KeyQueryRelativeConfig = ConfigOf<typeof keyQueryRelativeSchema>;

/** Leaf name of each layer's distance table under its attention scope. */
export const DISTANCE_TABLE_LEAF = 'distance_embedding';

export class KeyQueryRelativeEncoding implements PositionEncoding {
  readonly name = 'relative_key_query';
  private tables: tf.Variable[] = [];
  private tableNames: string[] = [];
  private maxPositions = 0;

  constructor(readonly config: KeyQueryRelativeConfig) {}

  get supports(): readonly AttentionKind[] {
    return supportedAttention(keyQueryRelativeDefinition, this.config);
  }

  /** Per-layer tables `[2·maxPositions − 1, headDim]`, std 0.02 (BERT's initializer_range). */
  build(spec: EncodingBuildSpec): void {
    this.dispose();
    this.maxPositions = spec.maxPositions;
    this.tableNames = layerScopes(spec.scopes, spec.layers).map((scope) =>
      scopedName(scope, DISTANCE_TABLE_LEAF),
    );
    this.tables = this.tableNames.map((name) =>
      normalParameter([2 * spec.maxPositions - 1, spec.headDim], 0.02, spec.seed, name),
    );
  }

  parameters(): Record<string, tf.Variable> {
    return Object.fromEntries(this.tables.map((table, l) => [this.tableNames[l]!, table]));
  }

  dispose(): void {
    tf.dispose(this.tables);
    this.tables = [];
    this.tableNames = [];
  }

  scoreBias(q: tf.Tensor4D, k: tf.Tensor4D, ctx: AttentionContext): tf.Tensor4D {
    if (this.tables.length === 0)
      throw new Error('relative_key_query: build(spec) must be called before scoreBias');
    const table = this.tables[ctx.layer];
    if (!table)
      throw new Error(
        `relative_key_query: layer ${ctx.layer} has no table; built for ${this.tables.length} layers`,
      );
    const query = require1D(ctx.queryPositions, 'relative_key_query');
    const key = require1D(ctx.keyPositions, 'relative_key_query');
    return tf.tidy(() =>
      keyQueryBias(
        q,
        k,
        table as tf.Tensor2D,
        distanceTableRows(query, key, this.maxPositions),
        this.config.mode,
      ),
    );
  }
}

export const keyQueryRelativeDefinition: EncodingDefinition<typeof keyQueryRelativeSchema> = {
  name: 'relative_key_query',
  description:
    'Relative position embeddings interacting with queries and keys (HF BERT relative_key_query)',
  paper: 'Huang et al. 2020, arXiv 2009.13658',
  package: '@posenc/core',
  schema: keyQueryRelativeSchema,
  supports: ['softmax'],
  positions: { kinds: ['1d'], fractional: true },
  create: (config) => new KeyQueryRelativeEncoding(config),
};
