/**
 * core's `PosencModulatedProduct` and `PosencModulatedProductGrad` (sineSPE's filter): the whole
 * chunk loop in one ONNX Runtime run each way. Per chunk the graph multiplies the chunk's rows by
 * the modulation table into a `[H, B, size, J·D]` feature block and multiplies that by the
 * chunk's weights on MLAS (batch dims broadcast, so P = 1 weights serve every row); ONNX
 * Runtime's planner reuses one chunk's block for the next, where TF.js ops each allocate their
 * own. The backward recomputes each chunk's features rather than keeping them all.
 *
 * The graphs are shape-free: chunk lengths, the last chunk's end in the table and its padding
 * are fed per run, so one session serves every length with the same number of chunks.
 */
import { MODULATED_PRODUCT_GRAD_KERNEL, MODULATED_PRODUCT_KERNEL, type tf } from '@posenc/core';
import { attr, type OnnxGraph, type OnnxNode, type OnnxTensor } from '../onnx/model.js';
import {
  floatInputs as floats,
  fusedMatMulNode as gemm,
  int64Tensor as int64s,
  onnxNode as node,
} from '../onnx/nodes.js';
import type { NativeTensorArg } from '../ort/binding.js';
import { runGraph, type AcceleratedKernel } from './kernel-context.js';

type TensorInfo = tf.TensorInfo;

/** What a graph is built for; everything else is fed per run. */
interface Variant {
  /** G. */
  readonly chunks: number;
  /** Whether the last chunk has C positions (no slice of the table, no padding of its gradient). */
  readonly lastFull: boolean;
  /** Ω's P = 1 with B > 1: its gradient sums over the batch rows. */
  readonly sumOmegaRows: boolean;
  /** W's P = 1 with B > 1: likewise. */
  readonly sumWeightRows: boolean;
  /** D, to split J·D back into J and D (the backward). */
  readonly dim: number;
}

interface GraphParts {
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
}

/** The per-chunk names of x (and dy) split along positions, and the squeezed weights. */
function splitChunks(
  g: GraphParts,
  v: Variant,
  tensors: readonly string[],
): { part: (name: string, c: number) => string; weights: (c: number) => string } {
  const { nodes, initializers } = g;
  initializers.push(
    int64s('axis_2', [2]),
    int64s('axis_3', [3]),
    int64s('weight_split', Array(v.chunks).fill(1)),
  );
  const part = (name: string, c: number) => (v.chunks === 1 ? name : `${name}_${c}`);
  if (v.chunks > 1) {
    for (const t of tensors)
      nodes.push({
        op: 'Split',
        inputs: [t, 'sizes'],
        outputs: Array.from({ length: v.chunks }, (_, c) => `${t}_${c}`),
        attributes: [attr.int('axis', 2)],
      });
    nodes.push({
      op: 'Split',
      inputs: ['weights', 'weight_split'],
      outputs: Array.from({ length: v.chunks }, (_, c) => `weights_${c}`),
      attributes: [attr.int('axis', 2)],
    });
  }
  for (let c = 0; c < v.chunks; c++)
    nodes.push(node('Squeeze', [part('weights', c), 'axis_2'], `w_${c}`));
  if (!v.lastFull) nodes.push(node('Slice', ['omega', 'zero', 'last_end', 'axis_2'], 'omega_last'));
  initializers.push(int64s('zero', [0]));
  return { part, weights: (c) => `w_${c}` };
}

const omegaOf = (v: Variant, c: number) =>
  !v.lastFull && c === v.chunks - 1 ? 'omega_last' : 'omega';

/** Per-run inputs after the float ones: chunk lengths (G > 1), the last chunk's end (and pads). */
function runInputs(v: Variant, gradient: boolean): string[] {
  return [
    ...(v.chunks > 1 ? ['sizes'] : []),
    ...(v.lastFull ? [] : ['last_end', ...(gradient ? ['last_pads'] : [])]),
  ];
}

function forwardGraph(v: Variant): OnnxGraph {
  const g: GraphParts = { nodes: [], initializers: [int64s('flat_shape', [0, 0, 0, -1])] };
  const { part, weights } = splitChunks(g, v, ['x']);
  const outs: string[] = [];
  for (let c = 0; c < v.chunks; c++) {
    const y = v.chunks === 1 ? 'y' : `y_${c}`;
    g.nodes.push(
      node('Unsqueeze', [part('x', c), 'axis_3'], `xu_${c}`),
      node('Mul', [`xu_${c}`, omegaOf(v, c)], `f5_${c}`),
      node('Reshape', [`f5_${c}`, 'flat_shape'], `f_${c}`),
      node('MatMul', [`f_${c}`, weights(c)], y),
    );
    outs.push(y);
  }
  if (v.chunks > 1) g.nodes.push(node('Concat', outs, 'y', [attr.int('axis', 2)]));
  return {
    ...g,
    inputs: [
      ...floats(['x', 'omega', 'weights']),
      ...runInputs(v, false).map((name) => ({ name, type: 'int64' as const })),
    ],
    outputs: floats(['y']),
  };
}

function gradientGraph(v: Variant): OnnxGraph {
  const g: GraphParts = {
    nodes: [],
    initializers: [
      int64s('flat_shape', [0, 0, 0, -1]),
      int64s('split_shape', [0, 0, 0, -1, v.dim]),
      int64s('axis_1', [1]),
    ],
  };
  const { part, weights } = splitChunks(g, v, ['x', 'dy']);
  const dxs: string[] = [];
  const dOmegas: string[] = [];
  const dWeights: string[] = [];
  const one = v.chunks === 1;
  for (let c = 0; c < v.chunks; c++) {
    const omega = omegaOf(v, c);
    const last = c === v.chunks - 1;
    const n = (name: string) => `${name}_${c}`;
    g.nodes.push(
      node('Unsqueeze', [part('x', c), 'axis_3'], n('xu')),
      node('Mul', [n('xu'), omega], n('f5')),
      node('Reshape', [n('f5'), 'flat_shape'], n('f')),
      gemm(part('dy', c), weights(c), n('df'), false, true),
      node('Reshape', [n('df'), 'split_shape'], n('df5')),
      node('Mul', [n('df5'), omega], n('dx_terms')),
      node('ReduceSum', [n('dx_terms'), 'axis_3'], one ? 'dx' : n('dx'), [attr.int('keepdims', 0)]),
      node('Mul', [n('df5'), n('xu')], n('do_rows')),
      gemm(n('f'), part('dy', c), n('dw_rows'), true, false),
    );
    dxs.push(n('dx'));
    let dOmega = n('do_rows');
    let dw = n('dw_rows');
    if (v.sumOmegaRows) {
      g.nodes.push(
        node('ReduceSum', [dOmega, 'axis_1'], n('do_summed'), [attr.int('keepdims', 1)]),
      );
      dOmega = n('do_summed');
    }
    if (v.sumWeightRows) {
      g.nodes.push(node('ReduceSum', [dw, 'axis_1'], n('dw_summed'), [attr.int('keepdims', 1)]));
      dw = n('dw_summed');
    }
    if (last && !v.lastFull) {
      g.nodes.push(node('Pad', [dOmega, 'last_pads'], n('do_padded')));
      dOmega = n('do_padded');
    }
    dOmegas.push(dOmega);
    g.nodes.push(node('Unsqueeze', [dw, 'axis_2'], one ? 'd_weights' : n('dw')));
    dWeights.push(n('dw'));
  }
  if (one) g.nodes.push(node('Identity', [dOmegas[0]!], 'd_omega'));
  else
    g.nodes.push(
      node('Concat', dxs, 'dx', [attr.int('axis', 2)]),
      node('Sum', dOmegas, 'd_omega'),
      node('Concat', dWeights, 'd_weights', [attr.int('axis', 2)]),
    );
  return {
    ...g,
    inputs: [
      ...floats(['dy', 'x', 'omega', 'weights']),
      ...runInputs(v, true).map((name) => ({ name, type: 'int64' as const })),
    ],
    outputs: floats(['dx', 'd_omega', 'd_weights']),
  };
}

/** The operands' sizes, or undefined for anything outside the contract (core checks first). */
function sizesOf(x: TensorInfo, omega: TensorInfo, weights: TensorInfo) {
  if ([x, omega, weights].some((t) => t.dtype !== 'float32')) return undefined;
  if (x.shape.length !== 4 || omega.shape.length !== 5 || weights.shape.length !== 5)
    return undefined;
  const [, batch, length, dim] = x.shape as [number, number, number, number];
  const [, rows, chunk] = omega.shape as [number, number, number];
  const [, weightRows, chunks] = weights.shape as [number, number, number];
  if (chunk < 1 || chunks !== Math.ceil(length / chunk) || chunks < 1) return undefined;
  const last = length - (chunks - 1) * chunk;
  const variant: Variant = {
    chunks,
    lastFull: last === chunk,
    sumOmegaRows: rows === 1 && batch > 1,
    sumWeightRows: weightRows === 1 && batch > 1,
    dim,
  };
  return { variant, chunk, last };
}

const key = (name: string, v: Variant) =>
  `${name}:${v.chunks}:${+v.lastFull}:${+v.sumOmegaRows}${+v.sumWeightRows}:${v.dim}`;

function runFeeds(v: Variant, chunk: number, last: number, gradient: boolean): NativeTensorArg[] {
  const feeds: NativeTensorArg[] = [];
  if (v.chunks > 1) {
    const sizes = new BigInt64Array(v.chunks).fill(BigInt(chunk));
    sizes[v.chunks - 1] = BigInt(last);
    feeds.push({ type: 'int64', dims: [v.chunks], data: sizes });
  }
  if (!v.lastFull) {
    feeds.push({ type: 'int64', dims: [1], data: new BigInt64Array([BigInt(last)]) });
    if (gradient) {
      // Zeros after the last chunk's rows of dΩ, up to the table's C (axis 2 of 5).
      const pads = new BigInt64Array(10);
      pads[7] = BigInt(chunk - last);
      feeds.push({ type: 'int64', dims: [10], data: pads });
    }
  }
  return feeds;
}

export const modulatedProduct: AcceleratedKernel = {
  kernelName: MODULATED_PRODUCT_KERNEL,
  run({ inputs, backend }, ctx) {
    const { x, omega, weights } = inputs as Record<string, TensorInfo>;
    const s = x && omega && weights ? sizesOf(x, omega, weights) : undefined;
    if (!s) return undefined;
    const [heads, batch, length] = x.shape as [number, number, number];
    return runGraph(
      ctx,
      backend,
      key(MODULATED_PRODUCT_KERNEL, s.variant),
      () => forwardGraph(s.variant),
      [x, omega, weights, ...runFeeds(s.variant, s.chunk, s.last, false)],
      [{ shape: [heads, batch, length, weights.shape[4]!], dtype: 'float32' }],
    )[0];
  },
};

export const modulatedProductGrad: AcceleratedKernel = {
  kernelName: MODULATED_PRODUCT_GRAD_KERNEL,
  run({ inputs, backend }, ctx) {
    const { dy, x, omega, weights } = inputs as Record<string, TensorInfo>;
    const s = dy && x && omega && weights ? sizesOf(x, omega, weights) : undefined;
    if (!s || dy.dtype !== 'float32') return undefined;
    return runGraph(
      ctx,
      backend,
      key(MODULATED_PRODUCT_GRAD_KERNEL, s.variant),
      () => gradientGraph(s.variant),
      [dy, x, omega, weights, ...runFeeds(s.variant, s.chunk, s.last, true)],
      [x.shape, omega.shape, weights.shape].map((shape) => ({ shape, dtype: 'float32' as const })),
    );
  },
};
