/**
 * FAVOR+ (Choromanski et al. 2021, "Rethinking Attention with Performers"): positive orthogonal
 * random features whose dot product is an unbiased estimate of the softmax kernel,
 * E[φ(q)·φ(k)] = exp(q·k/√d). As the Performer code (`fast_attention.py`,
 * `nonnegative_softmax_kernel_feature_creator`): the data are scaled by d^(-1/4) on each side
 * (so the pair gets the 1/√d of scaled dot-product attention, and an encoding that changes the
 * width, like SPE's R realisations, needs no second normaliser), φ(x) = (exp(ωx − |x|²/2 − c) +
 * 10⁻⁴)/√m, with the stabiliser c the maximum over a query's features and over all of a head's
 * keys (constants that cancel between numerator and normaliser; no gradient flows through them).
 *
 * The projection ω is drawn per layer and input width from (seed, draw, layer): blocks of d
 * orthonormal rows (Gram–Schmidt of Gaussian rows), each row rescaled by the norm of an
 * independent Gaussian d-vector (Performer's `scaling=0`), so rows are marginally Gaussian.
 * `redraw()` moves to the next draw, as Performer's feature redrawing does during training.
 */
import { tf } from '../engine/tf.js';
import type { AttentionContext } from '../encoding/position-encoding.js';
import { generatorFor, normalFrom } from '../data/random.js';
import { stopGradient } from '../ops/stop-gradient.js';
import type { FeatureRole, LinearFeatureMap } from './linear-attention.js';

/** Added to every feature (Performer's `eps` of the feature creator). */
export const FAVOR_FEATURE_EPSILON = 1e-4;

/**
 * `rows × cols` (row-major) Gaussian orthogonal random matrix: rows within each block of `cols`
 * are orthogonal, and each row's length is that of a Gaussian `cols`-vector.
 */
export function orthogonalGaussianMatrix(
  rows: number,
  cols: number,
  normal: () => number,
): Float64Array {
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(cols) || cols < 1)
    throw new Error(
      `orthogonalGaussianMatrix: rows = ${rows} and cols = ${cols} must be positive integers`,
    );
  const out = new Float64Array(rows * cols);
  for (let start = 0; start < rows; start += cols) {
    const block = Math.min(cols, rows - start);
    // Modified Gram–Schmidt on a full cols×cols Gaussian block; the first `block` rows are kept.
    const basis: Float64Array[] = [];
    while (basis.length < cols) {
      const v = Float64Array.from({ length: cols }, normal);
      for (const b of basis) {
        let dot = 0;
        for (let i = 0; i < cols; i++) dot += v[i]! * b[i]!;
        for (let i = 0; i < cols; i++) v[i]! -= dot * b[i]!;
      }
      let norm = 0;
      for (let i = 0; i < cols; i++) norm += v[i]! * v[i]!;
      norm = Math.sqrt(norm);
      // A draw that is (numerically) dependent on the earlier ones is drawn again.
      if (norm < 1e-6) continue;
      for (let i = 0; i < cols; i++) v[i]! /= norm;
      basis.push(v);
    }
    for (let r = 0; r < block; r++) out.set(basis[r]!, (start + r) * cols);
  }
  for (let r = 0; r < rows; r++) {
    let squares = 0;
    for (let i = 0; i < cols; i++) squares += normal() ** 2;
    const length = Math.sqrt(squares);
    for (let i = 0; i < cols; i++) out[r * cols + i]! *= length;
  }
  return out;
}

/** φ(x) of FAVOR+ for `x` `[B,H,N,d]` and a projection `[d, m]`: `[B,H,N,m]`. */
export function favorPlusFeatures(
  x: tf.Tensor4D,
  projection: tf.Tensor2D,
  role: FeatureRole,
): tf.Tensor4D {
  const [b, h, n, d] = x.shape;
  if (projection.shape[0] !== d)
    throw new Error(
      `favor+: the projection has ${projection.shape[0]} input features, the ${role}s have ${d}`,
    );
  const m = projection.shape[1];
  return tf.tidy(() => {
    const scaled = tf.mul(x, d ** -0.25);
    const dash = tf.matMul(scaled.reshape([b * h * n, d]), projection).reshape([b, h, n, m]);
    const half = tf.div(tf.sum(tf.square(scaled), 3, true), 2);
    const stabiliser = stopGradient(
      role === 'query' ? tf.max(dash, 3, true) : tf.max(dash, [2, 3], true),
    );
    const features = tf.add(tf.exp(tf.sub(tf.sub(dash, half), stabiliser)), FAVOR_FEATURE_EPSILON);
    return tf.mul(features, 1 / Math.sqrt(m));
  }) as tf.Tensor4D;
}

export interface FavorPlusOptions {
  /** Random features m (Performer's `nb_features`; LRA's default 256). */
  readonly features: number;
  readonly seed: number;
}

export class FavorPlusFeatureMap implements LinearFeatureMap {
  readonly name = 'favor+';
  private drawIndex = 0;
  /** Projections `[d, m]` of the current draw by `layer:d`, kept across tf.tidy. */
  private readonly projections = new Map<string, tf.Tensor2D>();

  constructor(readonly options: FavorPlusOptions) {
    if (!Number.isInteger(options.features) || options.features < 1)
      throw new Error(`favor+: features = ${options.features} must be a positive integer`);
  }

  /** Which draw of random features is in use (0 until the first `redraw`). */
  get draw(): number {
    return this.drawIndex;
  }

  /** New random features for every layer from the next call on. */
  redraw(): void {
    this.setDraw(this.drawIndex + 1);
  }

  /** Uses draw `index` (a resumed run restores the features it had). */
  setDraw(index: number): void {
    if (!Number.isInteger(index) || index < 0)
      throw new Error(`favor+: draw = ${index} must be an integer ≥ 0`);
    if (index === this.drawIndex) return;
    this.drawIndex = index;
    this.clear();
  }

  /** The projection `[d, m]` of `layer` for inputs of width `d`, in the current draw. */
  projection(layer: number, d: number): tf.Tensor2D {
    const key = `${layer}:${d}`;
    let p = this.projections.get(key);
    if (!p) {
      const { features, seed } = this.options;
      const normal = normalFrom(generatorFor(seed, this.drawIndex, layer * 65537 + d));
      const omega = orthogonalGaussianMatrix(features, d, normal); // [m, d]
      const made = tf.tidy(() => tf.tensor2d(Float32Array.from(omega), [features, d]).transpose());
      p = tf.keep(made) as tf.Tensor2D;
      this.projections.set(key, p);
    }
    return p;
  }

  apply(x: tf.Tensor4D, role: FeatureRole, ctx: AttentionContext): tf.Tensor4D {
    return favorPlusFeatures(x, this.projection(ctx.layer, x.shape[3]), role);
  }

  dispose(): void {
    this.clear();
  }

  private clear(): void {
    for (const p of this.projections.values()) p.dispose();
    this.projections.clear();
  }
}
