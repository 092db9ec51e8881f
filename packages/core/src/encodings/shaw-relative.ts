/**
 * Relative position representations (Shaw et al. 2018): learned vectors a^K_ij, a^V_ij for the
 * clipped distance j − i, added to the keys inside the scaled dot product (Eq. 5) and to the
 * values in the weighted sum (Eq. 3).
 */
import { tf } from '../engine/tf.js';
import { ConfigError, type ConfigOf, type Schema } from '../config/schema.js';
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

/**
 * Table labels clip(j − i, −k, k) + k `[B,Nq,Nk]` int32, from key minus query positions (§3.2:
 * 2k + 1 labels). Fractional distances are rounded to the nearest integer, half to even
 * (`tf.round`); rounding the distance rather than each position keeps the labels a function of
 * key − query only.
 */
export function shawLabels(
  query: SequencePositions,
  key: SequencePositions,
  clip: number,
): tf.Tensor3D {
  return tf.tidy(() =>
    tf.cast(
      tf.add(tf.clipByValue(tf.round(relativeDistances(query, key)), -clip, clip), clip),
      'int32',
    ),
  ) as tf.Tensor3D;
}

/**
 * out[b,h,n,m] = x[b,h,n,:] · table[labels[b,n,m]] for x `[B,H,N,D]`, a table `[L,D]` shared by
 * the heads or `[H,L,D]` per head, and labels `[B or 1,N,M]`. Shaw et al. (§3.3) multiply by the
 * `[N,M,D]` label vectors; with few distinct labels it is cheaper to take x·tableᵀ once per label
 * (`[B,H,N,L]`) and gather, which also keeps the memory at the size of the logits.
 */
export function relativeLogits(x: tf.Tensor4D, table: tf.Tensor, labels: tf.Tensor3D): tf.Tensor4D {
  const [batch, heads, rows, dim] = x.shape;
  const labelCount = checkRelativeTable('relativeLogits', table, heads, dim);
  checkLabels('relativeLogits', labels, batch, rows);
  return tf.tidy(() => {
    const perLabel =
      table.rank === 2
        ? tf.matMul(tf.reshape(x, [-1, dim]), table as tf.Tensor2D, false, true)
        : tf.matMul(x, tf.expandDims(table, 0) as tf.Tensor4D, false, true);
    const flatPerLabel: tf.Tensor = tf.reshape(perLabel, [-1]);
    return tf.gather(flatPerLabel, flatLabelIndex(batch, heads, rows, labelCount, labels));
  }) as tf.Tensor4D;
}

/**
 * out[b,h,i,:] = Σ_j probs[b,h,i,j] · table[labels[b,i,j]] for probs `[B,H,Nq,Nk]`: sums the
 * probabilities that share a label (a segment sum), then multiplies by the table once.
 */
export function relativeValueSum(
  probs: tf.Tensor4D,
  table: tf.Tensor,
  labels: tf.Tensor3D,
): tf.Tensor4D {
  const [batch, heads, rows, cols] = probs.shape;
  const dim = table.shape[table.rank - 1]!;
  const labelCount = checkRelativeTable('relativeValueSum', table, heads, dim);
  checkLabels('relativeValueSum', labels, batch, rows);
  if (labels.shape[2] !== cols)
    throw new Error(
      `relativeValueSum: labels [${labels.shape}] do not fit probabilities [${probs.shape}]`,
    );
  return tf.tidy(() => {
    const segments = flatLabelIndex(batch, heads, rows, labelCount, labels);
    const perLabel = tf.unsortedSegmentSum(
      tf.reshape(probs, [-1]),
      tf.reshape(segments, [-1]),
      batch * heads * rows * labelCount,
    );
    return table.rank === 2
      ? tf.reshape(tf.matMul(tf.reshape(perLabel, [-1, labelCount]), table as tf.Tensor2D), [
          batch,
          heads,
          rows,
          dim,
        ])
      : tf.matMul(
          tf.reshape(perLabel, [batch, heads, rows, labelCount]),
          tf.expandDims(table, 0) as tf.Tensor4D,
        );
  }) as tf.Tensor4D;
}

/** Index into a flattened `[B,H,N,L]` tensor of row (b,h,n) and label labels[b,n,m]: `[B,H,N,M]` int32. */
function flatLabelIndex(
  batch: number,
  heads: number,
  rows: number,
  labelCount: number,
  labels: tf.Tensor3D,
): tf.Tensor4D {
  const rowStarts = tf.reshape(
    tf.range(0, batch * heads * rows * labelCount, labelCount, 'int32'),
    [batch, heads, rows, 1],
  );
  return tf.add(rowStarts, tf.expandDims(labels, 1));
}

/** Returns the number of labels L of a `[L,D]` or `[H,L,D]` table after checking it fits. */
function checkRelativeTable(who: string, table: tf.Tensor, heads: number, dim: number): number {
  const fits =
    (table.rank === 2 && table.shape[1] === dim) ||
    (table.rank === 3 && table.shape[0] === heads && table.shape[2] === dim);
  if (!fits)
    throw new Error(
      `${who}: table [${table.shape}] does not fit ${heads} heads of dim ${dim}; expected [L, ${dim}] or [${heads}, L, ${dim}]`,
    );
  return table.shape[table.rank - 2]!;
}

function checkLabels(who: string, labels: tf.Tensor3D, batch: number, rows: number): void {
  if (
    labels.dtype !== 'int32' ||
    labels.shape[1] !== rows ||
    (labels.shape[0] !== 1 && labels.shape[0] !== batch)
  )
    throw new Error(
      `${who}: labels must be int32 [${batch} or 1, ${rows}, M], got ${labels.dtype} [${labels.shape}]`,
    );
}

export const shawSchema = {
  clip: {
    type: 'number',
    integer: true,
    min: 1,
    default: 16,
    doc: 'k: distances are clipped to [−k, k], giving 2k + 1 labels',
  },
  keys: { type: 'boolean', default: true, doc: 'add a^K to the keys (logit bias q·a^K/√D)' },
  values: {
    type: 'boolean',
    default: true,
    doc: 'add a^V to the values (output bias Σ_j α_ij a^V_ij)',
  },
  perHead: {
    type: 'boolean',
    default: false,
    doc: 'one table per head instead of one shared by the heads (the paper shares)',
  },
} as const satisfies Schema;

export type ShawConfig = ConfigOf<typeof shawSchema>;

export class ShawRelativeEncoding implements PositionEncoding {
  readonly name = 'shaw';
  /** Present only when `keys` is on, so attention skips a zero bias. */
  readonly scoreBias?: (q: tf.Tensor4D, k: tf.Tensor4D, ctx: AttentionContext) => tf.Tensor4D;
  /** Present only when `values` is on. */
  readonly valueBias?: (probs: tf.Tensor4D, ctx: AttentionContext) => tf.Tensor4D;
  private keyTables: tf.Variable[] = [];
  private valueTables: tf.Variable[] = [];
  /** Each layer's attention scope; its tables are `<scope>.rel_k` and `<scope>.rel_v`. */
  private layerScopes: string[] = [];

  constructor(readonly config: ShawConfig) {
    if (!config.keys && !config.values)
      throw new ConfigError(
        "encoding 'shaw'",
        'keys',
        config.keys,
        'keys and values are both false; at least one must be true',
      );
    if (config.keys) {
      // Eq. 5: e_ij = q_i·(k_j + a^K_ij)/√d_z, so the bias is scaled like q·k.
      this.scoreBias = (q, _k, ctx) => {
        const table = this.tableFor(this.keyTables, ctx);
        return tf.tidy(() =>
          tf.mul(relativeLogits(q, table, this.labels(ctx)), 1 / Math.sqrt(q.shape[3])),
        );
      };
    }
    if (config.values)
      // Eq. 3: z_i = Σ_j α_ij (v_j + a^V_ij).
      this.valueBias = (probs, ctx) => {
        const table = this.tableFor(this.valueTables, ctx);
        return tf.tidy(() => relativeValueSum(probs, table, this.labels(ctx)));
      };
  }

  get supports(): readonly AttentionKind[] {
    return supportedAttention(shawDefinition, this.config);
  }

  /** Per-layer tables `[2k+1, D]` (or `[H, 2k+1, D]` per head), std 0.02. */
  build(spec: EncodingBuildSpec): void {
    this.dispose();
    const labels = 2 * this.config.clip + 1;
    const shape = this.config.perHead ? [spec.heads, labels, spec.headDim] : [labels, spec.headDim];
    this.layerScopes = layerScopes(spec.scopes, spec.layers);
    const create = (leaf: 'rel_k' | 'rel_v') =>
      this.layerScopes.map((scope) =>
        normalParameter(shape, 0.02, spec.seed, scopedName(scope, leaf)),
      );
    if (this.config.keys) this.keyTables = create('rel_k');
    if (this.config.values) this.valueTables = create('rel_v');
  }

  parameters(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    const add = (tables: tf.Variable[], leaf: string) =>
      tables.forEach((table, l) => (out[scopedName(this.layerScopes[l]!, leaf)] = table));
    add(this.keyTables, 'rel_k');
    add(this.valueTables, 'rel_v');
    return out;
  }

  dispose(): void {
    tf.dispose([...this.keyTables, ...this.valueTables]);
    this.keyTables = [];
    this.valueTables = [];
    this.layerScopes = [];
  }

  private labels(ctx: AttentionContext): tf.Tensor3D {
    return shawLabels(
      require1D(ctx.queryPositions, 'shaw'),
      require1D(ctx.keyPositions, 'shaw'),
      this.config.clip,
    );
  }

  private tableFor(tables: tf.Variable[], ctx: AttentionContext): tf.Variable {
    if (tables.length === 0)
      throw new Error('shaw: build(spec) must be called before attention runs');
    const table = tables[ctx.layer];
    if (!table)
      throw new Error(`shaw: layer ${ctx.layer} has no tables; built for ${tables.length} layers`);
    return table;
  }
}

export const shawDefinition: EncodingDefinition<typeof shawSchema> = {
  name: 'shaw',
  description:
    'Relative position representations: learned key and value vectors for the clipped distance',
  paper: 'Shaw et al. 2018, arXiv 1803.02155',
  package: '@posenc/core',
  schema: shawSchema,
  supports: ['softmax'],
  positions: { kinds: ['1d'], fractional: true },
  create: (config) => new ShawRelativeEncoding(config),
};
