/**
 * ALiBi (Press et al. 2022): no position vectors; each head adds a fixed linear penalty on the
 * query–key distance to its logits, with head-specific slopes from a geometric sequence.
 */
import { tf } from '../engine/tf.js';
import type { ConfigOf, Schema } from '../config/schema.js';
import type {
  AttentionContext,
  AttentionKind,
  PositionEncoding,
} from '../encoding/position-encoding.js';
import { supportedAttention, type EncodingDefinition } from '../encoding/registry.js';
import { relativeDistances, require1D } from '../positions/positions.js';

/**
 * Head slopes exactly as `get_slopes` in ofirpress/attention_with_linear_biases: for a power of
 * two n, the geometric sequence starting at 2^(−8/n) with that same ratio; otherwise the slopes
 * of the closest lower power of two p, followed by every other slope of 2p (the first n − p).
 * JS's `**` and C's `pow` (behind Python's) differ in the last bits, so the float64 values agree
 * with the official ones to ~1e-14 relative, and exactly once rounded to float32 as they are used.
 */
export function alibiSlopes(heads: number): number[] {
  if (!Number.isInteger(heads) || heads < 1)
    throw new Error(`alibiSlopes: heads = ${heads} is not allowed; expected an integer ≥ 1`);
  const log2 = Math.log2(heads);
  if (Number.isInteger(log2)) {
    const start = 2 ** -(2 ** -(log2 - 3));
    return Array.from({ length: heads }, (_, i) => start * start ** i);
  }
  const closestPowerOfTwo = 2 ** Math.floor(log2);
  return [
    ...alibiSlopes(closestPowerOfTwo),
    ...alibiSlopes(2 * closestPowerOfTwo)
      .filter((_, i) => i % 2 === 0)
      .slice(0, heads - closestPowerOfTwo),
  ];
}

export type AlibiVariant = 'causal' | 'symmetric';

/**
 * The ALiBi bias `[B,H,Nq,Nk]` for distances key − query `[B,Nq,Nk]` and slopes `[H]`.
 * `causal`: slope·(key − query), the paper's m·[−(i−1), …, −1, 0] on the causal triangle.
 * `symmetric`: −slope·|key − query| for encoders, as the authors suggest in
 * ofirpress/attention_with_linear_biases issue #5.
 */
export function alibiBias(
  distances: tf.Tensor3D,
  slopes: tf.Tensor1D,
  variant: AlibiVariant,
): tf.Tensor4D {
  return tf.tidy(() => {
    const headSlopes = tf.reshape(slopes, [1, -1, 1, 1]);
    const perHead = tf.expandDims(distances, 1);
    return variant === 'causal'
      ? tf.mul(headSlopes, perHead)
      : tf.mul(tf.neg(headSlopes), tf.abs(perHead));
  }) as tf.Tensor4D;
}

export const alibiSchema = {
  variant: {
    type: 'enum',
    values: ['causal', 'symmetric'],
    default: 'causal',
    doc: "'causal' = slope·(key − query) for decoders; 'symmetric' = −slope·|key − query| for encoders",
  },
} as const satisfies Schema;

export type AlibiConfig = ConfigOf<typeof alibiSchema>;

export class AlibiEncoding implements PositionEncoding {
  readonly name = 'alibi';
  /** Slopes of the last head count seen, kept between calls. */
  private slopes: tf.Tensor1D | undefined;

  constructor(readonly config: AlibiConfig) {}

  get supports(): readonly AttentionKind[] {
    return supportedAttention(alibiDefinition, this.config);
  }

  /**
   * Added after q·kᵀ/√D without scaling: fairseq's attention scales q before the product and
   * adds the ALiBi matrix afterwards through `attn_mask`, so the slopes act on scaled logits.
   */
  scoreBias(_q: tf.Tensor4D, _k: tf.Tensor4D, ctx: AttentionContext): tf.Tensor4D {
    if (this.config.variant === 'causal' && !ctx.causal)
      throw new Error(
        `alibi: variant 'causal' on non-causal attention (layer ${ctx.layer}) rewards far future keys without bound; use variant 'symmetric' for encoders`,
      );
    const query = require1D(ctx.queryPositions, 'alibi');
    const key = require1D(ctx.keyPositions, 'alibi');
    const slopes = this.slopesFor(ctx.heads);
    return tf.tidy(() => alibiBias(relativeDistances(query, key), slopes, this.config.variant));
  }

  dispose(): void {
    this.slopes?.dispose();
    this.slopes = undefined;
  }

  private slopesFor(heads: number): tf.Tensor1D {
    if (this.slopes?.shape[0] !== heads) {
      this.slopes?.dispose();
      // Kept: attention calls this hook inside its own tf.tidy, which would free the cache.
      this.slopes = tf.keep(tf.tensor1d(alibiSlopes(heads), 'float32'));
    }
    return this.slopes;
  }
}

export const alibiDefinition: EncodingDefinition<typeof alibiSchema> = {
  name: 'alibi',
  description: 'Attention with linear biases: a per-head linear penalty on query–key distance',
  paper: 'Press et al. 2022, arXiv 2108.12409',
  package: '@posenc/core',
  schema: alibiSchema,
  supports: ['softmax'],
  positions: { kinds: ['1d'], fractional: true },
  create: (config) => new AlibiEncoding(config),
};
