/**
 * T5's relative attention bias (Raffel et al. 2020, §2.1): a learned scalar per head and
 * relative-position bucket, added to the logits. Buckets are exact for small distances and
 * logarithmically wider up to `maxDistance`, beyond which all distances share the last bucket.
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
import { scopedName } from '../encoding/parameter-scopes.js';
import { normalParameter } from '../nn/init.js';
import { relativeDistances, require1D } from '../positions/positions.js';

export interface T5BucketOptions {
  /** Separate buckets for keys before and after the query (encoders); false for causal decoders. */
  readonly bidirectional: boolean;
  readonly numBuckets: number;
  readonly maxDistance: number;
}

/** HF's `max_exact`: distances below it get a bucket each (half the buckets of a direction). */
export function t5MaxExact(options: Pick<T5BucketOptions, 'bidirectional' | 'numBuckets'>): number {
  const perDirection = options.bidirectional
    ? Math.floor(options.numBuckets / 2)
    : options.numBuckets;
  return Math.floor(perDirection / 2);
}

/**
 * The bucket of an integer relative position key − query, transcribing `_relative_position_bucket`
 * of Hugging Face's `modeling_t5.py`, including its float32 arithmetic for the logarithmic
 * buckets (each step rounded with Math.fround) and the truncation of `.to(torch.long)`.
 */
export function t5RelativePositionBucket(
  relativePosition: number,
  options: T5BucketOptions,
): number {
  let numBuckets = options.numBuckets;
  let bucket = 0;
  let distance: number;
  if (options.bidirectional) {
    numBuckets = Math.floor(numBuckets / 2);
    if (relativePosition > 0) bucket += numBuckets;
    distance = Math.abs(relativePosition);
  } else {
    // Keys after the query (positive positions) all fall in bucket 0.
    distance = -Math.min(relativePosition, 0);
  }
  const maxExact = Math.floor(numBuckets / 2);
  if (distance < maxExact) return bucket + distance;
  const f32 = Math.fround;
  const logRatio = f32(
    f32(Math.log(f32(distance / maxExact))) / f32(Math.log(options.maxDistance / maxExact)),
  );
  const large = maxExact + Math.trunc(f32(logRatio * (numBuckets - maxExact)));
  return bucket + Math.min(large, numBuckets - 1);
}

/**
 * Buckets of every relative position in [−maxDistance, maxDistance] (index = position +
 * maxDistance). Past ±maxDistance the logarithm exceeds the last bucket, so clamping a relative
 * position into this range before the lookup gives the same bucket as the formula.
 */
export function t5BucketTable(options: T5BucketOptions): Int32Array {
  const { maxDistance } = options;
  return Int32Array.from({ length: 2 * maxDistance + 1 }, (_, i) =>
    t5RelativePositionBucket(i - maxDistance, options),
  );
}

/**
 * Buckets `[…]` int32 of relative positions key − query, looked up in a `t5BucketTable` tensor.
 * Fractional relative positions are rounded to the nearest integer (half to even, `tf.round`),
 * since T5 defines buckets on integer distances only.
 */
export function t5BucketsFromTable(
  relative: tf.Tensor,
  table: tf.Tensor1D,
  maxDistance: number,
): tf.Tensor {
  return tf.tidy(() => {
    const clamped = tf.clipByValue(tf.round(relative), -maxDistance, maxDistance);
    return tf.gather(table, tf.cast(tf.add(clamped, maxDistance), 'int32'));
  });
}

/** T5 bias `[B,H,Nq,Nk]` from a `[buckets, heads]` table and relative positions key − query `[B,Nq,Nk]`. */
export function t5Bias(biasTable: tf.Tensor2D, buckets: tf.Tensor3D): tf.Tensor4D {
  return tf.tidy(() =>
    tf.transpose(tf.gather(biasTable as tf.Tensor, buckets), [0, 3, 1, 2]),
  ) as tf.Tensor4D;
}

export const t5Schema = {
  numBuckets: {
    type: 'number',
    integer: true,
    min: 4,
    default: 32,
    doc: 'relative position buckets (HF relative_attention_num_buckets)',
  },
  maxDistance: {
    type: 'number',
    integer: true,
    min: 1,
    default: 128,
    doc: 'distance where the logarithmic buckets end (HF relative_attention_max_distance)',
  },
  bidirectional: {
    type: 'boolean',
    optional: true,
    doc: 'separate buckets for earlier and later keys; unset: true for non-causal attention, false for causal (HF: not is_decoder)',
  },
  perLayer: {
    type: 'boolean',
    default: false,
    doc: 'one table per layer instead of one shared by all layers (T5 shares)',
  },
} as const satisfies Schema;

export type T5Config = ConfigOf<typeof t5Schema>;

/** Leaf name of the bias tables: under the shared attention scope, or each layer's with `perLayer`. */
export const T5_TABLE_LEAF = 'relative_attention_bias';

/**
 * T5 adds this bias to logits it never scales by 1/√D (Mesh TensorFlow folds the scale into the
 * initialisation). Core adds it after the 1/√D of q·kᵀ, which only changes the q·k term, not
 * the bias: the bias is a free parameter either way, so it is not rescaled here.
 */
export class T5RelativeBias implements PositionEncoding {
  readonly name = 't5';
  private tables: tf.Variable[] = [];
  private readonly tableNames: string[] = [];
  /** Bucket lookups by direction mode, built once. */
  private readonly bucketTables = new Map<boolean, tf.Tensor1D>();

  constructor(readonly config: T5Config) {
    const directions = config.bidirectional === undefined ? [true, false] : [config.bidirectional];
    for (const bidirectional of directions) {
      const maxExact = t5MaxExact({ bidirectional, numBuckets: config.numBuckets });
      if (config.maxDistance <= maxExact)
        throw new ConfigError(
          "encoding 't5'",
          'maxDistance',
          config.maxDistance,
          `expected more than the ${maxExact} exact buckets of ${bidirectional ? 'bidirectional' : 'causal'} attention with numBuckets = ${config.numBuckets}`,
        );
    }
  }

  get supports(): readonly AttentionKind[] {
    return supportedAttention(t5Definition, this.config);
  }

  /** Tables `[numBuckets, heads]`, std 0.02. */
  build(spec: EncodingBuildSpec): void {
    this.disposeTables();
    const { scopes } = spec;
    const names = this.config.perLayer
      ? Array.from({ length: spec.layers }, (_, l) =>
          scopedName(scopes.attention(l), T5_TABLE_LEAF),
        )
      : [scopedName(scopes.sharedAttention, T5_TABLE_LEAF)];
    for (const name of names) {
      this.tableNames.push(name);
      this.tables.push(
        normalParameter([this.config.numBuckets, spec.heads], 0.02, spec.seed, name),
      );
    }
  }

  parameters(): Record<string, tf.Variable> {
    return Object.fromEntries(this.tableNames.map((name, i) => [name, this.tables[i]!]));
  }

  dispose(): void {
    this.disposeTables();
    for (const table of this.bucketTables.values()) table.dispose();
    this.bucketTables.clear();
  }

  scoreBias(_q: tf.Tensor4D, _k: tf.Tensor4D, ctx: AttentionContext): tf.Tensor4D {
    const biasTable = this.tableFor(ctx);
    const bidirectional = this.config.bidirectional ?? !ctx.causal;
    const bucketTable = this.bucketTableFor(bidirectional);
    const query = require1D(ctx.queryPositions, 't5');
    const key = require1D(ctx.keyPositions, 't5');
    return tf.tidy(() => {
      // HF compute_bias: relative_position = memory_position − context_position.
      const buckets = t5BucketsFromTable(
        relativeDistances(query, key),
        bucketTable,
        this.config.maxDistance,
      );
      return t5Bias(biasTable as tf.Tensor2D, buckets as tf.Tensor3D);
    });
  }

  private tableFor(ctx: AttentionContext): tf.Variable {
    if (this.tables.length === 0)
      throw new Error('t5: build(spec) must be called before scoreBias');
    const table = this.tables[this.config.perLayer ? ctx.layer : 0];
    if (!table)
      throw new Error(
        `t5: layer ${ctx.layer} has no bias table; built for ${this.tables.length} layers`,
      );
    if (table.shape[1] !== ctx.heads)
      throw new Error(
        `t5: attention has ${ctx.heads} heads, the bias table [${table.shape}] was built for ${table.shape[1]}`,
      );
    return table;
  }

  private bucketTableFor(bidirectional: boolean): tf.Tensor1D {
    let table = this.bucketTables.get(bidirectional);
    if (!table) {
      const { numBuckets, maxDistance } = this.config;
      // Kept: attention calls scoreBias inside its own tf.tidy, which would free the cache.
      table = tf.keep(
        tf.tensor1d(t5BucketTable({ bidirectional, numBuckets, maxDistance }), 'int32'),
      );
      this.bucketTables.set(bidirectional, table);
    }
    return table;
  }

  private disposeTables(): void {
    tf.dispose(this.tables);
    this.tables = [];
    this.tableNames.length = 0;
  }
}

export const t5Definition: EncodingDefinition<typeof t5Schema> = {
  name: 't5',
  description:
    'T5 relative attention bias: a learned scalar per head and log-spaced distance bucket',
  paper: 'Raffel et al. 2020, arXiv 1910.10683',
  package: '@posenc/core',
  schema: t5Schema,
  supports: ['softmax'],
  positions: { kinds: ['1d'], fractional: true },
  create: (config) => new T5RelativeBias(config),
};
