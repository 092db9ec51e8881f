/**
 * core's `PosencAttention` and `PosencAttentionGrad` kernels: softmax attention forward as one
 * ONNX Runtime run (scaled q·kᵀ on MLAS with the scale as the GEMM's alpha, bias, masks, softmax,
 * the product with v) and its backward as one more (four GEMMs, the softmax gradient and the
 * bias gradient's reduction). The causal mask is core's cached `[Nq, Nk]` array, fed as an input
 * straight from JS memory; key padding is turned into its additive mask inside the graph.
 */
import {
  ATTENTION_GRAD_KERNEL,
  ATTENTION_KERNEL,
  causalMaskValues,
  MASKED,
  type AttentionGradAttrs,
  type AttentionKernelAttrs,
  type tf,
} from '@posenc/core';
import { attr, type OnnxGraph, type OnnxNode } from '../onnx/model.js';
import {
  floatInputs as floats,
  fusedMatMulNode as gemm,
  int64Tensor as int64s,
  onnxNode as node,
  scalarTensor as scalar,
} from '../onnx/nodes.js';
import type { NativeTensorArg } from '../ort/binding.js';
import { runGraph, type AcceleratedKernel } from './kernel-context.js';

type TensorInfo = tf.TensorInfo;

export interface ForwardVariant {
  scale: number;
  bias: boolean;
  causal: boolean;
  padding: boolean;
}

export function forwardGraph(f: ForwardVariant): OnnxGraph {
  const nodes: OnnxNode[] = [gemm('q', 'k', 'scores_0', false, true, f.scale)];
  let scores = 'scores_0';
  const add = (term: string) => {
    const next = `scores_${nodes.length}`;
    nodes.push(node('Add', [scores, term], next));
    scores = next;
  };
  if (f.bias) add('bias');
  if (f.causal) add('causal_mask');
  if (f.padding) {
    // paddingMask: (1 − valid)·MASKED as [B,1,1,Nk]
    nodes.push(node('Sub', ['one', 'key_valid'], 'padded'));
    nodes.push(node('Mul', ['padded', 'masked'], 'padding_flat'));
    nodes.push(node('Unsqueeze', ['padding_flat', 'padding_axes'], 'padding_mask'));
    add('padding_mask');
  }
  nodes.push(node('Softmax', [scores], 'probs', [attr.int('axis', -1)]));
  nodes.push(gemm('probs', 'v', 'output', false, false));
  return {
    nodes,
    initializers: f.padding
      ? [scalar('one', 1), scalar('masked', MASKED), int64s('padding_axes', [1, 2])]
      : [],
    inputs: floats([
      'q',
      'k',
      'v',
      ...(f.bias ? ['bias'] : []),
      ...(f.causal ? ['causal_mask'] : []),
      ...(f.padding ? ['key_valid'] : []),
    ]),
    outputs: floats(['output', 'probs']),
  };
}

/** Axes of `[B,H,Nq,Nk]` a bias of `shape` was broadcast along (leading ones included). */
function broadcastAxes(shape: readonly number[]): number[] {
  const offset = 4 - shape.length;
  return [0, 1, 2, 3].filter((i) => i < offset || shape[i - offset] === 1);
}

export function gradientGraph(scale: number, biasShape: number[] | undefined, dProbs: boolean): OnnxGraph {
  const nodes: OnnxNode[] = [
    gemm('probs', 'dy', 'dv', true, false),
    gemm('dy', 'v', dProbs ? 'dp_output' : 'dp', false, true),
  ];
  if (dProbs) nodes.push(node('Add', ['dp_output', 'd_probs'], 'dp'));
  nodes.push(
    // softmax gradient as TF.js: dP⊙P − Σ(dP⊙P)·P
    node('Mul', ['dp', 'probs'], 'weighted'),
    node('ReduceSum', ['weighted', 'last_axis'], 'row_sums', [attr.int('keepdims', 1)]),
    node('Mul', ['row_sums', 'probs'], 'row_term'),
    node('Sub', ['weighted', 'row_term'], 'ds'),
    gemm('ds', 'k', 'dq', false, false, scale),
    gemm('ds', 'q', 'dk', true, false, scale),
  );
  const initializers = [int64s('last_axis', [-1])];
  if (biasShape) {
    const axes = broadcastAxes(biasShape);
    if (axes.length) {
      nodes.push(node('ReduceSum', ['ds', 'bias_axes'], 'd_bias_kept', [attr.int('keepdims', 1)]));
      initializers.push(int64s('bias_axes', axes));
    }
    nodes.push(node('Reshape', [axes.length ? 'd_bias_kept' : 'ds', 'bias_shape'], 'd_bias'));
    initializers.push(int64s('bias_shape', biasShape));
  }
  return {
    nodes,
    initializers,
    inputs: floats(['dy', 'q', 'k', 'v', 'probs', ...(dProbs ? ['d_probs'] : [])]),
    outputs: floats(['dq', 'dk', 'dv', ...(biasShape ? ['d_bias'] : [])]),
  };
}

const isFloat = (ts: (TensorInfo | undefined)[]) =>
  ts.every((t) => t === undefined || t.dtype === 'float32');

/**
 * Inputs outside the contract (other dtypes or ranks, batch or head dims that differ) are not
 * taken; core checks them before calling, and the host has no attention kernel.
 */
export const attention: AcceleratedKernel = {
  kernelName: ATTENTION_KERNEL,
  run({ inputs, attrs, backend }, ctx) {
    const { q, k, v, bias, keyValid } = inputs as Record<string, TensorInfo | undefined>;
    const { scale, causal } = attrs as unknown as AttentionKernelAttrs;
    if (!q || !k || !v || !isFloat([q, k, v, bias, keyValid])) return undefined;
    if (q.shape.length !== 4 || k.shape.length !== 4 || v.shape.length !== 4) return undefined;
    const [b, h, nq] = q.shape as [number, number, number, number];
    const nk = k.shape[2]!;
    const variant: ForwardVariant = { scale, bias: !!bias, causal, padding: !!keyValid };
    const feeds: (TensorInfo | NativeTensorArg)[] = [q, k, v];
    if (bias) feeds.push(bias);
    if (causal) feeds.push({ type: 'float32', dims: [nq, nk], data: causalMaskValues(nq, nk) });
    if (keyValid) feeds.push(keyValid);
    return runGraph(
      ctx,
      backend,
      `${ATTENTION_KERNEL}:${scale}:${+variant.bias}${+causal}${+variant.padding}`,
      () => forwardGraph(variant),
      feeds,
      [
        { shape: [b, h, nq, v.shape[3]!], dtype: 'float32' },
        { shape: [b, h, nq, nk], dtype: 'float32' },
      ],
    );
  },
};

export const attentionGrad: AcceleratedKernel = {
  kernelName: ATTENTION_GRAD_KERNEL,
  run({ inputs, attrs, backend }, ctx) {
    const { dy, q, k, v, probs, dProbs } = inputs as Record<string, TensorInfo | undefined>;
    const { scale, biasShape } = attrs as unknown as AttentionGradAttrs;
    if (!dy || !q || !k || !v || !probs || !isFloat([dy, q, k, v, probs, dProbs])) return undefined;
    const shape = biasShape ? [...biasShape] : undefined;
    return runGraph(
      ctx,
      backend,
      `${ATTENTION_GRAD_KERNEL}:${scale}:${shape ? `[${shape}]` : ''}:${+!!dProbs}`,
      () => gradientGraph(scale, shape, !!dProbs),
      [dy, q, k, v, probs, ...(dProbs ? [dProbs] : [])],
      [q.shape, k.shape, v.shape, ...(shape ? [shape] : [])].map((s) => ({
        shape: s,
        dtype: 'float32' as const,
      })),
    );
  },
};
