/**
 * A product of position-modulated features with per-chunk weights, chunk by chunk of positions:
 *
 *   y[h, b, c·C + t, r] = Σ_{j, d} x[h, b, c·C + t, d] · Ω[h, p, t, j, d] · W[h, p′, c, j·D + d, r]
 *
 * with x `[H, B, N, D]`, the modulation Ω `[H, P, C, J, D]` shared by the chunks (C positions
 * each, the last one possibly shorter: it reads Ω's first rows), the weights W
 * `[H, P′, G, J·D, R]` of the G = ⌈N / C⌉ chunks; P and P′ are each 1 (one for every batch row:
 * p = 0) or B (p = b). Output `[H, B, N, R]`, float32.
 *
 * sineSPE's filter (`@posenc/spe-linear`) is this product: its code at offset t within a chunk is
 * a fixed table Ω of cosines and sines, and the chunk's start moves into the weights. Composed of
 * TF.js ops, each chunk is a transpose-free broadcast multiply into a `[C, J·D]` feature block per
 * head and a matmul, each its own engine call with its own `[C, J·D]` tensor; an engine may run
 * the whole product as one call that reuses one chunk's block for the next:
 *
 * - `PosencModulatedProduct`: inputs `x`, `omega`, `weights` as above; output `y`.
 * - `PosencModulatedProductGrad`: inputs `dy` `[H, B, N, R]`, `x`, `omega`, `weights`; outputs
 *   dx, dΩ (summed over the chunks and, when P = 1, the batch rows) and dW (summed over the rows
 *   when P′ = 1):
 *
 *     F_c = x_c ⊙ Ω,   dF_c = dy_c · W_cᵀ,   dx_c = Σ_j dF_c ⊙ Ω,
 *     dΩ = Σ_c Σ_b dF_c ⊙ x_c,   dW_c = F_cᵀ · dy_c
 *
 * Both in float32, in any summation order.
 */
import { activeBackendHas } from '../engine/active-kernel.js';
import { tf } from '../engine/tf.js';

export const MODULATED_PRODUCT_KERNEL = 'PosencModulatedProduct';
export const MODULATED_PRODUCT_GRAD_KERNEL = 'PosencModulatedProductGrad';

/** The sizes of a modulated product, read from its operands' shapes. */
export interface ModulatedProductShape {
  readonly heads: number;
  readonly batch: number;
  readonly length: number;
  readonly dim: number;
  /** Ω's P: 1 (shared by the batch rows) or B. */
  readonly omegaRows: number;
  /** W's P: 1 or B, independently of Ω's. */
  readonly weightRows: number;
  /** C: positions per chunk. */
  readonly chunk: number;
  /** J: modulations per feature. */
  readonly modulations: number;
  /** G = ⌈N / C⌉. */
  readonly chunks: number;
  /** R: output features. */
  readonly outputs: number;
}

const shapeText = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;

/**
 * The sizes of `modulatedProduct(x, omega, weights)`, or an error that names the operand, its
 * shape and what it must be.
 */
export function modulatedProductShape(
  x: tf.Tensor,
  omega: tf.Tensor,
  weights: tf.Tensor,
): ModulatedProductShape {
  const fail = (what: string): never => {
    throw new Error(
      `modulatedProduct: ${what} (x ${shapeText(x)}, omega ${shapeText(omega)}, weights ${shapeText(weights)})`,
    );
  };
  if (x.rank !== 4) fail(`x must be [H, B, N, D]; got rank ${x.rank}`);
  if (omega.rank !== 5) fail(`omega must be [H, P, C, J, D]; got rank ${omega.rank}`);
  if (weights.rank !== 5) fail(`weights must be [H, P, G, J·D, R]; got rank ${weights.rank}`);
  for (const [name, t] of [
    ['x', x],
    ['omega', omega],
    ['weights', weights],
  ] as const)
    if (t.dtype !== 'float32') fail(`${name} must be float32; got ${t.dtype}`);
  const [heads, batch, length, dim] = x.shape as [number, number, number, number];
  const [oHeads, rows, chunk, modulations, oDim] = omega.shape as number[] as [
    number,
    number,
    number,
    number,
    number,
  ];
  const [wHeads, wRows, chunks, columns, outputs] = weights.shape as number[] as [
    number,
    number,
    number,
    number,
    number,
  ];
  if (oHeads !== heads || wHeads !== heads)
    fail(`omega and weights must have x's ${heads} heads first`);
  if (oDim !== dim) fail(`omega's last axis must be x's D = ${dim}; got ${oDim}`);
  if (rows !== 1 && rows !== batch) fail(`omega's P must be 1 or x's B = ${batch}; got ${rows}`);
  if (wRows !== 1 && wRows !== batch)
    fail(`weights' P must be 1 or x's B = ${batch}; got ${wRows}`);
  if (columns !== modulations * dim)
    fail(`weights' fourth axis must be J·D = ${modulations * dim}; got ${columns}`);
  if (chunk < 1) fail('omega must have at least one position per chunk');
  const needed = Math.ceil(length / chunk);
  if (chunks !== needed)
    fail(
      `weights must have ⌈N / C⌉ = ${needed} chunks for N = ${length}, C = ${chunk}; got ${chunks}`,
    );
  return {
    heads,
    batch,
    length,
    dim,
    omegaRows: rows,
    weightRows: wRows,
    chunk,
    modulations,
    chunks,
    outputs,
  };
}

/** The chunks' lengths: C, …, C and the rest. */
function chunkSizes(s: ModulatedProductShape): number[] {
  return Array.from({ length: s.chunks }, (_, c) => Math.min(s.chunk, s.length - c * s.chunk));
}

/** Splits `t` along `axis` into `sizes`, without a copy when there is one part. */
const splitInto = (t: tf.Tensor, sizes: number[], axis: number): tf.Tensor[] =>
  sizes.length === 1 ? [t] : tf.split(t, sizes, axis);

/** Ω's first `size` positions. */
const firstPositions = (omega: tf.Tensor, size: number): tf.Tensor =>
  omega.shape[2] === size ? omega : omega.slice([0, 0, 0, 0, 0], [-1, -1, size, -1, -1]);

/** One chunk's features F = x ⊙ Ω, grouped by W's rows: `[H, P, (B/P)·size, J·D]`. */
function features(s: ModulatedProductShape, xc: tf.Tensor, omega: tf.Tensor, size: number) {
  const p = s.weightRows;
  return tf
    .mul(xc.reshape([s.heads, s.batch, size, 1, s.dim]), firstPositions(omega, size))
    .reshape([s.heads, p, (s.batch / p) * size, s.modulations * s.dim]);
}

function compositeProduct(
  s: ModulatedProductShape,
  x: tf.Tensor4D,
  omega: tf.Tensor5D,
  weights: tf.Tensor5D,
): tf.Tensor4D {
  if (s.chunks === 0) return tf.zeros([s.heads, s.batch, 0, s.outputs]);
  return tf.tidy(() => {
    const sizes = chunkSizes(s);
    const xs = splitInto(x, sizes, 2);
    const ws = splitInto(
      weights,
      sizes.map(() => 1),
      2,
    );
    const outs = sizes.map((size, c) =>
      tf.tidy(() =>
        tf
          .matMul(
            features(s, xs[c]!, omega, size),
            ws[c]!.reshape([s.heads, s.weightRows, s.modulations * s.dim, s.outputs]),
          )
          .reshape([s.heads, s.batch, size, s.outputs]),
      ),
    );
    return (outs.length === 1 ? outs[0]! : tf.concat(outs, 2)) as tf.Tensor4D;
  });
}

/** The three gradients of the product. */
export interface ModulatedProductGradients {
  readonly dx: tf.Tensor4D;
  readonly dOmega: tf.Tensor5D;
  readonly dWeights: tf.Tensor5D;
}

/** dx, dΩ and dW of the product for an upstream `dy`, by the engine's kernel if it has one. */
export function modulatedProductGradient(
  dy: tf.Tensor4D,
  x: tf.Tensor4D,
  omega: tf.Tensor5D,
  weights: tf.Tensor5D,
): ModulatedProductGradients {
  const s = modulatedProductShape(x, omega, weights);
  if (s.chunks === 0)
    return { dx: tf.zerosLike(x), dOmega: tf.zerosLike(omega), dWeights: tf.zerosLike(weights) };
  if (activeBackendHas(MODULATED_PRODUCT_GRAD_KERNEL)) {
    const [dx, dOmega, dWeights] = tf
      .engine()
      .runKernel(MODULATED_PRODUCT_GRAD_KERNEL, { dy, x, omega, weights }) as tf.Tensor[];
    return {
      dx: dx as tf.Tensor4D,
      dOmega: dOmega as tf.Tensor5D,
      dWeights: dWeights as tf.Tensor5D,
    };
  }
  return tf.tidy(() => {
    const sizes = chunkSizes(s);
    const columns = s.modulations * s.dim;
    const xs = splitInto(x, sizes, 2);
    const dys = splitInto(dy, sizes, 2);
    const ws = splitInto(
      weights,
      sizes.map(() => 1),
      2,
    );
    const dxs: tf.Tensor[] = [];
    const dws: tf.Tensor[] = [];
    let dOmega: tf.Tensor = tf.zeros(omega.shape);
    sizes.forEach((size, c) => {
      const [dxc, dwc, dOmegaC] = tf.tidy(() => {
        const p = s.weightRows;
        const dyc = dys[c]!.reshape([s.heads, p, (s.batch / p) * size, s.outputs]);
        const w = ws[c]!.reshape([s.heads, p, columns, s.outputs]);
        const dF = tf
          .matMul(dyc, w, false, true)
          .reshape([s.heads, s.batch, size, s.modulations, s.dim]);
        const rowsOmega = firstPositions(omega, size);
        const dx = tf.sum(tf.mul(dF, rowsOmega), 3);
        let dO = tf.mul(dF, xs[c]!.reshape([s.heads, s.batch, size, 1, s.dim]));
        if (s.omegaRows === 1 && s.batch > 1) dO = tf.sum(dO, 1, true);
        if (size < s.chunk)
          dO = tf.pad(dO, [
            [0, 0],
            [0, 0],
            [0, s.chunk - size],
            [0, 0],
            [0, 0],
          ]);
        const dw = tf.matMul(features(s, xs[c]!, omega, size), dyc, true, false).expandDims(2);
        return [dx, dw, dO];
      });
      dxs.push(dxc);
      dws.push(dwc);
      const next = tf.add(dOmega, dOmegaC);
      tf.dispose([dOmega, dOmegaC]);
      dOmega = next;
    });
    return {
      dx: (dxs.length === 1 ? dxs[0]! : tf.concat(dxs, 2)) as tf.Tensor4D,
      dOmega: dOmega as tf.Tensor5D,
      dWeights: (dws.length === 1 ? dws[0]! : tf.concat(dws, 2)) as tf.Tensor5D,
    } as unknown as tf.TensorContainerObject;
  }) as unknown as ModulatedProductGradients;
}

/**
 * The product y `[H, B, N, R]` (see the file's comment), differentiable in x, Ω and W: one engine
 * call forward and one backward where the engine has the kernels, TF.js ops otherwise.
 */
export function modulatedProduct(
  x: tf.Tensor4D,
  omega: tf.Tensor5D,
  weights: tf.Tensor5D,
): tf.Tensor4D {
  const s = modulatedProductShape(x, omega, weights);
  if (!activeBackendHas(MODULATED_PRODUCT_KERNEL) || s.length === 0)
    return compositeProduct(s, x, omega, weights);
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    save([x, omega, weights]);
    const value = tf
      .engine()
      .runKernel(MODULATED_PRODUCT_KERNEL, { x, omega, weights }) as tf.Tensor4D;
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, so, sw] = saved as [tf.Tensor4D, tf.Tensor5D, tf.Tensor5D];
        const g = modulatedProductGradient(dy as tf.Tensor4D, sx, so, sw);
        return [g.dx, g.dOmega, g.dWeights];
      },
    };
  })(x, omega, weights) as tf.Tensor4D;
}
