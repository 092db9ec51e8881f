/**
 * The contract between attention and a position method. Core's attention calls the hooks at
 * fixed points, in the order the encodings are listed; every hook is optional.
 */
import type { tf } from '../engine/tf.js';
import type { FusedRotation } from '../attention/fused-rotation.js';
import type { GridShape, Positions } from '../positions/positions.js';
import type { ParameterScopes } from './parameter-scopes.js';

export type AttentionKind = 'softmax' | 'linear';

/** What a hook knows about the attention call it is part of. */
export interface AttentionContext {
  readonly queryPositions: Positions;
  readonly keyPositions: Positions;
  readonly heads: number;
  readonly headDim: number;
  readonly causal: boolean;
  /** Index of the layer (0-based) whose attention is running. */
  readonly layer: number;
  readonly kind: AttentionKind;
  readonly training: boolean;
}

/** Sizes (and the seed) an encoding needs to create its parameters. */
export interface EncodingSizes {
  readonly layers: number;
  readonly heads: number;
  readonly headDim: number;
  readonly modelDim: number;
  /** Longest position the model is trained on (tables of learned absolute encodings). */
  readonly maxPositions: number;
  /** 2D models (ViT): the grid of the training images; absent in sequence models. */
  readonly grid?: GridShape;
  /** Seed for parameter initialisation, so runs are reproducible. */
  readonly seed: number;
}

/** What the model that owns an encoding gives it once, to create its parameters. */
export interface EncodingBuildSpec extends EncodingSizes {
  /** Where the parameters go: their names are these scopes plus the encoding's leaf names. */
  readonly scopes: ParameterScopes;
}

/** Query/key/value heads `[B,H,N,D]`. */
export interface QKV {
  q: tf.Tensor4D;
  k: tf.Tensor4D;
  v: tf.Tensor4D;
}

/** Feature-mapped queries/keys for linear attention, split by where they are used (Eq. 19 of RoFormer). */
export interface LinearFeatures {
  /** φ(q), φ(k) used in the numerator Σ φ(q)·φ(k) v. */
  numeratorQ: tf.Tensor4D;
  numeratorK: tf.Tensor4D;
  /** φ(q), φ(k) used in the normaliser Σ φ(q)·φ(k). */
  denominatorQ: tf.Tensor4D;
  denominatorK: tf.Tensor4D;
}

/**
 * Conventions every hook follows:
 * - hooks run inside attention's `tf.tidy`: a constant an encoding caches on first use (a slope
 *   vector, a bucket table) must be `tf.keep`-ed and freed in `dispose()`, or tidy frees it;
 * - position tensors may have batch 1 while q/k have batch B (shared positions): broadcast;
 * - returned tensors are new; inputs are never disposed by a hook.
 */
export interface PositionEncoding {
  /** Registry name (`alibi`, `rope`, …). */
  readonly name: string;
  /** The validated config it was created from (defaults filled): `{ name, ...config }` recreates it. */
  readonly config: Readonly<Record<string, unknown>>;
  /**
   * Attention kinds this encoding works with, as its definition declares them
   * (`supportedAttention`); others fail at model build with a clear message.
   */
  readonly supports: readonly AttentionKind[];

  /** Creates the parameters; called once by the model before the first forward pass. */
  build?(spec: EncodingBuildSpec): void;
  /** Learnable parameters by their stable hierarchical names (the safetensors keys). */
  parameters?(): Record<string, tf.Variable>;
  /** Frees parameters and caches. */
  dispose?(): void;

  /** 1. Token embeddings `[B,N,C]` at the model input (absolute tables). */
  embed?(x: tf.Tensor3D, positions: Positions): tf.Tensor3D;
  /** 2. What enters the query and key projections `[B,N,C]`; the value projection sees the plain input. */
  projectionInputs?(
    xq: tf.Tensor3D,
    xk: tf.Tensor3D,
    ctx: AttentionContext,
  ): { xq: tf.Tensor3D; xk: tf.Tensor3D };
  /** 3. Transforms projected heads before scores (RoPE, xPos); may transform v too. */
  queryKey?(qkv: QKV, ctx: AttentionContext): QKV;
  /**
   * 3′. For an encoding whose `queryKey` only rotates q and k: the same rotation as tables, so an
   * engine can fuse it into the attention kernel (`attention/fused-rotation.ts`). Core calls
   * either this or `queryKey`, never both; undefined means "run `queryKey`".
   */
  fusedRotation?(qkv: QKV, ctx: AttentionContext): FusedRotation | undefined;
  /**
   * 4. Additive logits bias broadcastable to `[B,H,Nq,Nk]`, added after q·k/√D. A method whose
   * paper adds before the scaling divides by √D itself.
   */
  scoreBias?(q: tf.Tensor4D, k: tf.Tensor4D, ctx: AttentionContext): tf.Tensor;
  /** 5. Added to the attention output `[B,H,Nq,D]`, given probabilities `[B,H,Nq,Nk]`. */
  valueBias?(probs: tf.Tensor4D, ctx: AttentionContext): tf.Tensor4D;

  /**
   * 6a. Linear attention: transform q,k `[B,H,N,D]` before the feature map (SPE). The width may
   * change (SPE maps the D features to R realisations), the same for q and k.
   */
  linearQueryKey?(
    q: tf.Tensor4D,
    k: tf.Tensor4D,
    ctx: AttentionContext,
  ): { q: tf.Tensor4D; k: tf.Tensor4D };
  /** 6b. Linear attention: change the feature-mapped q,k used in numerator and denominator (RoPE Eq. 19). */
  linearFeatures?(features: LinearFeatures, ctx: AttentionContext): LinearFeatures;
  /**
   * 6c. Linear attention: replace the aggregation itself (FFT-based RPE). Returns numerator
   * `[B,H,Nq,Dv]` and denominator `[B,H,Nq,1]`.
   */
  linearAggregate?(
    features: LinearFeatures,
    v: tf.Tensor4D,
    ctx: AttentionContext,
  ): { numerator: tf.Tensor4D; denominator: tf.Tensor4D };
}

/** Throws when an encoding is put on an attention kind it does not support. */
export function assertSupports(encoding: PositionEncoding, kind: AttentionKind): void {
  if (!encoding.supports.includes(kind))
    throw new Error(
      `encoding '${encoding.name}' does not support ${kind} attention; it supports: ${encoding.supports.join(', ')}`,
    );
}
