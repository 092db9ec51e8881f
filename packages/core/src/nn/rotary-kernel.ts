/**
 * The rotation kernel of rotary position embeddings, as a contract between the RoPE plugin
 * (`@posenc/roformer`, which calls it and registers a JS/SIMD kernel for backends that lack one)
 * and engines that bring their own (`@posenc/kernels`). Core itself never rotates.
 *
 * `PosencRotary`: inputs `x` (float32 `[B,H,N,D]` or `[B,N,D]`), `cos` and `sin` (float32
 * `[Bt, N, P]`, Bt = 1 for positions shared by the batch or B); attributes
 * {@link RotaryAttributes}. Output: x with features `[startIndex, startIndex + 2P)` rotated pair
 * by pair, the rest passed through. That slice splits into `chunks` equal chunks, each with its
 * pairs in `layout` order (interleaved: features 2j, 2j+1 of the chunk; half: j, j + m/2 of a
 * chunk of m) and the table's pairs taken chunk after chunk. For pair (i, j) at table entry t:
 *
 *   y_i = x_i·cos_t − x_j·s_t,   y_j = x_j·cos_t + x_i·s_t,   s = sin, or −sin when `transpose`
 *
 * in float32. The gradient is the same kernel with `transpose` flipped (the rotation is
 * orthogonal per pair, up to the tables' scale); the plugin registers it.
 */
export const ROTARY_KERNEL = 'PosencRotary';

export type RotaryLayout = 'interleaved' | 'half';

export interface RotaryAttributes {
  readonly layout: RotaryLayout;
  /** First rotated feature. */
  readonly startIndex: number;
  /** Equal chunks of the rotated slice that follow the layout on their own (axial: 2). */
  readonly chunks: number;
  /** Apply the transposed rotation (angle −θ): the gradient, or undoing a rotation. */
  readonly transpose: boolean;
}
