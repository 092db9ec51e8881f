/**
 * Kernelised linear attention (Katharopoulos et al. 2020): out_i = Σ_j φ(q_i)·φ(k_j) v_j /
 * Σ_j φ(q_i)·φ(k_j), computed without the [Nq,Nk] matrix. Causal attention runs chunk by
 * chunk: within a chunk a small masked product, across chunks a running sum of φ(k)ᵀv. This
 * is exact, and memory stays O(N·D²/chunk) instead of the O(N·D²) of a full prefix sum.
 *
 * Feature maps: elu+1 (Katharopoulos et al.), ReLU, ReLU + 10⁻³ (the LRA "linear transformer"
 * row: favor.py's generalized attention with kernel_epsilon 0.001 and no data scaling), and any
 * `LinearFeatureMap` with state of its own, such as FAVOR+'s random features (`favor-plus.ts`).
 */
import { tf } from '../engine/tf.js';
import type {
  AttentionContext,
  LinearFeatures,
  PositionEncoding,
} from '../encoding/position-encoding.js';

/** The feature maps that are plain functions of their input. */
export type FeatureMapName = 'elu+1' | 'relu' | 'relu+eps';

export const FEATURE_MAPS: readonly FeatureMapName[] = ['elu+1', 'relu', 'relu+eps'];

/** The ε of `relu+eps`: LRA's `kernel_epsilon` (favor.py `make_fast_generalized_attention`). */
export const RELU_KERNEL_EPSILON = 1e-3;

/** Which side of φ(q)·φ(k) a feature map is applied to. */
export type FeatureRole = 'query' | 'key';

/**
 * A feature map that needs more than its input: the side it maps (FAVOR+ stabilises queries per
 * row and keys per head) and the call (a random projection per layer).
 */
export interface LinearFeatureMap {
  readonly name: string;
  apply(x: tf.Tensor4D, role: FeatureRole, ctx: AttentionContext): tf.Tensor4D;
}

export type FeatureMap = FeatureMapName | ((x: tf.Tensor4D) => tf.Tensor4D) | LinearFeatureMap;

/** φ(x) for `x` `[B,H,N,D]`; the role and context matter only to a `LinearFeatureMap`. */
export function applyFeatureMap(
  x: tf.Tensor4D,
  map: FeatureMap,
  role: FeatureRole = 'query',
  ctx?: AttentionContext,
): tf.Tensor4D {
  if (typeof map === 'function') return map(x);
  if (typeof map === 'object') {
    if (!ctx) throw new Error(`feature map '${map.name}' needs the attention context`);
    return map.apply(x, role, ctx);
  }
  return tf.tidy(() => {
    switch (map) {
      case 'elu+1':
        return tf.add(tf.elu(x), 1);
      case 'relu':
        return tf.relu(x);
      case 'relu+eps':
        return tf.add(tf.relu(x), RELU_KERNEL_EPSILON);
      default:
        throw new Error(
          `unknown feature map '${String(map)}'; expected one of ${FEATURE_MAPS.join(', ')} or a LinearFeatureMap`,
        );
    }
  }) as tf.Tensor4D;
}

export interface LinearAttentionOptions {
  encodings: readonly PositionEncoding[];
  ctx: AttentionContext;
  featureMap?: FeatureMap;
  /** Queries per block of the causal computation. */
  chunkSize?: number;
  /** Added to the normaliser; keeps ReLU features with an all-zero row finite. */
  eps?: number;
  /** `[B, Nk]`, 1 for real keys and 0 for padding. */
  keyValid?: tf.Tensor2D;
}

export function linearAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  options: LinearAttentionOptions,
): tf.Tensor4D {
  const { encodings, ctx } = options;
  const eps = options.eps ?? 1e-6;
  return tf.tidy(() => {
    let qIn = q;
    let kIn = k;
    for (const e of encodings)
      if (e.linearQueryKey) ({ q: qIn, k: kIn } = e.linearQueryKey(qIn, kIn, ctx));
    const map = options.featureMap ?? 'elu+1';
    const fq = applyFeatureMap(qIn, map, 'query', ctx);
    const fk = applyFeatureMap(kIn, map, 'key', ctx);
    let features: LinearFeatures = {
      numeratorQ: fq,
      numeratorK: fk,
      denominatorQ: fq,
      denominatorK: fk,
    };
    for (const e of encodings) if (e.linearFeatures) features = e.linearFeatures(features, ctx);
    if (options.keyValid) features = withoutPaddingKeys(features, options.keyValid);

    const aggregator = encodings.find((e) => e.linearAggregate);
    const { numerator, denominator } = aggregator
      ? aggregator.linearAggregate!(features, v, ctx)
      : ctx.causal
        ? causalAggregate(features, v, options.chunkSize ?? 64)
        : globalAggregate(features, v);
    return tf.div(numerator, tf.add(denominator, eps)) as tf.Tensor4D;
  });
}

/**
 * There are no `[Nq,Nk]` logits to mask: zeroing a padding key's features φ(k) removes it
 * exactly from both Σ φ(k)ᵀv and the normaliser Σ φ(k). Applied after the encodings' hooks.
 */
function withoutPaddingKeys(f: LinearFeatures, keyValid: tf.Tensor2D): LinearFeatures {
  const valid = keyValid.toFloat().expandDims(1).expandDims(3); // [B,1,Nk,1]
  return {
    ...f,
    numeratorK: tf.mul(f.numeratorK, valid) as tf.Tensor4D,
    denominatorK: tf.mul(f.denominatorK, valid) as tf.Tensor4D,
  };
}

/** Non-causal: one sum over all keys, shared by every query. */
function globalAggregate(f: LinearFeatures, v: tf.Tensor4D) {
  const kv = tf.matMul(f.numeratorK, v, true, false); // [B,H,D,Dv]
  const numerator = tf.matMul(f.numeratorQ, kv) as tf.Tensor4D;
  const kSum = tf.sum(f.denominatorK, 2, true); // [B,H,1,D]
  const denominator = tf.matMul(f.denominatorQ, kSum, false, true) as tf.Tensor4D; // [B,H,Nq,1]
  return { numerator, denominator };
}

/**
 * Causal, by chunks. Keys beyond the query count come first (a cache) and are visible to
 * every query, matching core's causal mask.
 */
function causalAggregate(f: LinearFeatures, v: tf.Tensor4D, chunkSize: number) {
  const nq = f.numeratorQ.shape[2];
  const nk = f.numeratorK.shape[2];
  if (nk < nq)
    throw new Error(
      `causal linear attention needs at least as many keys as queries; got Nq=${nq}, Nk=${nk}`,
    );
  const prefix = nk - nq;
  const slice = (t: tf.Tensor4D, start: number, len: number) =>
    t.slice([0, 0, start, 0], [-1, -1, len, -1]) as tf.Tensor4D;

  // Running state: S = Σ φ(k)ᵀ v (numerator), z = Σ φ(k) (denominator), over keys seen so far.
  // (Zero-length slices are avoided: tfjs-wasm's matMul over an empty axis reads garbage.)
  const [b, h, , d] = f.numeratorK.shape;
  const dv = v.shape[3];
  let state: tf.Tensor =
    prefix > 0
      ? tf.matMul(slice(f.numeratorK, 0, prefix), slice(v, 0, prefix), true, false)
      : tf.zeros([b, h, d, dv]);
  let norm: tf.Tensor =
    prefix > 0
      ? tf.sum(slice(f.denominatorK, 0, prefix), 2, true)
      : tf.zeros([b, h, 1, f.denominatorK.shape[3]]);
  const numerators: tf.Tensor[] = [];
  const denominators: tf.Tensor[] = [];
  for (let start = 0; start < nq; start += chunkSize) {
    const len = Math.min(chunkSize, nq - start);
    const qn = slice(f.numeratorQ, start, len);
    const qd = slice(f.denominatorQ, start, len);
    const kn = slice(f.numeratorK, prefix + start, len);
    const kd = slice(f.denominatorK, prefix + start, len);
    const vc = slice(v, prefix + start, len);
    const lower = tf.linalg.bandPart(tf.ones([len, len]), -1, 0);
    const within = tf.mul(tf.matMul(qn, kn, false, true), lower);
    numerators.push(tf.add(tf.matMul(within, vc), tf.matMul(qn, state)));
    const withinD = tf.mul(tf.matMul(qd, kd, false, true), lower);
    denominators.push(tf.add(tf.sum(withinD, 3, true), tf.matMul(qd, norm, false, true)));
    state = tf.add(state, tf.matMul(kn, vc, true, false));
    norm = tf.add(norm, tf.sum(kd, 2, true));
  }
  return {
    numerator: tf.concat(numerators, 2) as tf.Tensor4D,
    denominator: tf.concat(denominators, 2) as tf.Tensor4D,
  };
}
