/**
 * The three terms iRPE adds to attention, computed the efficient way of the paper (§3.2, Eq.
 * 26–28) and of the official code's fallback path: a bucket takes only a few values, so x·W is
 * formed once per bucket (`[B,H,L,nb]`, O(L·nb·D)) and the `[B,H,Lq,Lk]` term is one flat
 * gather by a precomputed index (its gradient a scatter-add). Values go the other way round: the
 * probabilities are summed per bucket (a segment sum, whose gradient is a gather), then times the
 * table. No `[Lq, Lk, D]` tensor is ever formed. The gather and the segment sum are core's
 * `gatherLast` and `scatterAddLast`, each the other's gradient and one engine call each way
 * where the engine has the kernels.
 */
import { gatherLast, scatterAddLast, tf } from '@posenc/core';

/**
 * x·W·scale for every bucket, `[B,H,L,nb]`: x `[B,H,L,D]` heads, W `[H',D,nb]` with H' = 1 (one
 * table for every head) or H. The scale multiplies the small table, not the products.
 */
export function bucketProducts(x: tf.Tensor4D, weight: tf.Tensor3D, scale = 1): tf.Tensor4D {
  const [b, h, l, d] = x.shape;
  const [tables, , buckets] = weight.shape;
  return tf.tidy(() => {
    const scaled = scale === 1 ? weight : tf.mul(weight, scale);
    return tables === 1
      ? tf
          .matMul(x.reshape([b * h * l, d]), scaled.reshape([d, buckets]))
          .reshape([b, h, l, buckets])
      : tf.matMul(x, scaled.expandDims(0));
  }) as tf.Tensor4D;
}

/**
 * `out[b,h,i,j] = products[b,h,·][index[i·Lk + j]]`: the products `[B,H,Lq,nb]` read at the flat
 * index `i'·nb + bucket`, `[Lq·Lk]` int32, as one gather over the last two axes flattened.
 */
export function gatherScores(
  products: tf.Tensor4D,
  flatIndex: tf.Tensor1D,
  queries: number,
  keys: number,
): tf.Tensor4D {
  const [b, h, l, buckets] = products.shape;
  return tf.tidy(() =>
    gatherLast(products.reshape([b, h, l * buckets]), flatIndex).reshape([b, h, queries, keys]),
  ) as tf.Tensor4D;
}

/** A bias table `[H', nb]` read at the bucket ids `[Lq·Lk]`: `[1, H', Lq, Lk]`, broadcast over the batch. */
export function biasScores(
  table: tf.Tensor2D,
  ids: tf.Tensor1D,
  queries: number,
  keys: number,
): tf.Tensor4D {
  return tf.tidy(() =>
    gatherLast(table, ids).reshape([1, table.shape[0], queries, keys]),
  ) as tf.Tensor4D;
}

/**
 * Σ_j α_ij r[bucket(i,j)], `[B,H,Lq,D]`: probabilities `[B,H,Lq,Lk]` summed per (query, bucket)
 * with the segment ids `i·nb + bucket` `[Lq·Lk]`, times the table `[H', nb, D]`.
 */
export function valueTerm(
  probs: tf.Tensor4D,
  flatIndex: tf.Tensor1D,
  weight: tf.Tensor3D,
): tf.Tensor4D {
  const [b, h, queries, keys] = probs.shape;
  const [tables, buckets, d] = weight.shape;
  return tf.tidy(() => {
    const perBucket = scatterAddLast(
      probs.reshape([b, h, queries * keys]),
      flatIndex,
      queries * buckets,
    ).reshape([b, h, queries, buckets]) as tf.Tensor4D;
    return tables === 1
      ? tf
          .matMul(perBucket.reshape([b * h * queries, buckets]), weight.reshape([buckets, d]))
          .reshape([b, h, queries, d])
      : tf.matMul(perBucket, weight.expandDims(0));
  }) as tf.Tensor4D;
}
