/**
 * core's `PosencRotaryAttention` and `PosencRotaryAttentionGrad`: RoPE and softmax attention in
 * one ONNX Runtime run each way. The forward graph is the attention graph of `attention.ts`
 * behind two RotaryEmbedding rotations (q and k, the graph of `rotary.ts`), and hands the rotated
 * q and k out for the backward; the backward is the attention gradient graph followed by the
 * transposed rotations of dq and dk. Against a separate `PosencRotary` run per rotation (four
 * per step, each with its own output allocation, feeds and the hook's JS around it) this saves
 * the runs, not the arithmetic: the rotations are the same nodes.
 */
import {
  causalMaskValues,
  ROTARY_ATTENTION_GRAD_KERNEL,
  ROTARY_ATTENTION_KERNEL,
  type RotaryAttentionAttrs,
  type RotaryAttentionGradAttrs,
  type RotaryAttributes,
  type tf,
} from '@posenc/core';
import type { OnnxGraph, OnnxNode, OnnxTensor, OnnxValueInfo } from '../onnx/model.js';
import { floatInputs as floats } from '../onnx/nodes.js';
import type { NativeTensorArg } from '../ort/binding.js';
import { forwardGraph, gradientGraph } from './attention.js';
import { runGraph, type AcceleratedKernel } from './kernel-context.js';
import { rotationFits, rotationNodes, tableRows } from './rotary.js';

type TensorInfo = tf.TensorInfo;
type Side = 'q' | 'k';

/** The position ids and tables one side's rotation reads, as graph inputs. */
const tableInputs = (side: Side): OnnxValueInfo[] => [
  { name: `${side}_position_ids`, type: 'int64' },
  ...floats([`${side}_cos`, `${side}_sin`]),
];

/** Rotates `x` into `y` with `side`'s tables (transposed for the gradient). */
function rotate(
  side: Side,
  x: string,
  y: string,
  a: RotaryAttributes,
  dim: number,
  pairs: number,
): { nodes: OnnxNode[]; initializers: OnnxTensor[] } {
  return rotationNodes(a, dim, pairs, {
    x,
    y,
    positionIds: `${side}_position_ids`,
    cos: `${side}_cos`,
    sin: `${side}_sin`,
    prefix: `${y}_`,
  });
}

interface RotaryVariant {
  scale: number;
  causal: boolean;
  padding: boolean;
  rotation: Omit<RotaryAttributes, 'transpose'>;
  dim: number;
  pairs: number;
}

function rotaryForwardGraph(f: RotaryVariant): OnnxGraph {
  const a = { ...f.rotation, transpose: false };
  const q = rotate('q', 'q_input', 'q', a, f.dim, f.pairs);
  const k = rotate('k', 'k_input', 'k', a, f.dim, f.pairs);
  const attention = forwardGraph({
    scale: f.scale,
    bias: false,
    causal: f.causal,
    padding: f.padding,
  });
  return {
    nodes: [...q.nodes, ...k.nodes, ...attention.nodes],
    initializers: [...q.initializers, ...k.initializers, ...(attention.initializers ?? [])],
    inputs: [
      ...floats(['q_input', 'k_input']),
      ...attention.inputs.filter((i) => i.name !== 'q' && i.name !== 'k'),
      ...tableInputs('q'),
      ...tableInputs('k'),
    ],
    outputs: [...attention.outputs, ...floats(['q', 'k'])],
  };
}

function rotaryGradientGraph(f: Omit<RotaryVariant, 'causal' | 'padding'>): OnnxGraph {
  const a = { ...f.rotation, transpose: true };
  const attention = gradientGraph(f.scale, undefined, false);
  const renamed = new Map([
    ['dq', 'dq_rotated'],
    ['dk', 'dk_rotated'],
  ]);
  const nodes = attention.nodes.map((n) => ({
    ...n,
    outputs: n.outputs.map((o) => renamed.get(o) ?? o),
  }));
  const dq = rotate('q', 'dq_rotated', 'dq', a, f.dim, f.pairs);
  const dk = rotate('k', 'dk_rotated', 'dk', a, f.dim, f.pairs);
  return {
    nodes: [...nodes, ...dq.nodes, ...dk.nodes],
    initializers: [...(attention.initializers ?? []), ...dq.initializers, ...dk.initializers],
    inputs: [...attention.inputs, ...tableInputs('q'), ...tableInputs('k')],
    outputs: attention.outputs,
  };
}

/** Position ids and the two tables of one side, checked against the contract. */
function sideFeeds(
  side: Side,
  x: TensorInfo,
  cos: TensorInfo | undefined,
  sin: TensorInfo | undefined,
  a: Omit<RotaryAttributes, 'transpose'>,
): (TensorInfo | NativeTensorArg)[] {
  if (!cos || !sin || cos.dtype !== 'float32' || sin.dtype !== 'float32')
    throw new Error(`${ROTARY_ATTENTION_KERNEL}: ${side}Cos and ${side}Sin must be float32 tables`);
  if (cos.shape.join() !== sin.shape.join() || !rotationFits(x.shape, cos.shape, a))
    throw new Error(
      `${ROTARY_ATTENTION_KERNEL}: ${side} [${x.shape}] cannot be rotated by tables [${cos.shape}] and [${sin.shape}] from feature ${a.startIndex} in ${a.chunks} chunk(s)`,
    );
  const [tableBatch, length, pairs] = cos.shape as [number, number, number];
  // RotaryEmbedding reads `[rows, P]` caches: the `[Bt, N, P]` tables are those rows as they are.
  const table = (t: TensorInfo) => ({ ...t, shape: [tableBatch * length, pairs] });
  return [
    {
      type: 'int64',
      dims: [x.shape[0]!, length],
      data: tableRows(x.shape[0]!, length, tableBatch),
    },
    table(cos),
    table(sin),
  ];
}

const rotationKey = (a: Omit<RotaryAttributes, 'transpose'>, dim: number, pairs: number) =>
  `${a.layout}:${a.startIndex}:${a.chunks}:${dim}:${pairs}`;

const floatOutputs = (...shapes: (readonly number[])[]) =>
  shapes.map((shape) => ({ shape, dtype: 'float32' as const }));

export const rotaryAttention: AcceleratedKernel = {
  kernelName: ROTARY_ATTENTION_KERNEL,
  run({ inputs, attrs, backend }, ctx) {
    const { q, k, v, keyValid, qCos, qSin, kCos, kSin } = inputs as Record<
      string,
      TensorInfo | undefined
    >;
    const { scale, causal, layout, startIndex, chunks } = attrs as unknown as RotaryAttentionAttrs;
    if (!q || !k || !v) throw new Error(`${ROTARY_ATTENTION_KERNEL}: q, k and v are required`);
    const rotation = { layout, startIndex, chunks };
    const [b, h, nq, dim] = q.shape as [number, number, number, number];
    const nk = k.shape[2]!;
    const tables = [
      ...sideFeeds('q', q, qCos, qSin, rotation),
      ...sideFeeds('k', k, kCos, kSin, rotation),
    ];
    const variant: RotaryVariant = {
      scale,
      causal,
      padding: !!keyValid,
      rotation,
      dim,
      pairs: qCos!.shape[2]!,
    };
    const feeds: (TensorInfo | NativeTensorArg)[] = [q, k, v];
    if (causal) feeds.push({ type: 'float32', dims: [nq, nk], data: causalMaskValues(nq, nk) });
    if (keyValid) feeds.push(keyValid);
    return runGraph(
      ctx,
      backend,
      `${ROTARY_ATTENTION_KERNEL}:${scale}:${+causal}${+!!keyValid}:${rotationKey(rotation, dim, variant.pairs)}`,
      () => rotaryForwardGraph(variant),
      [...feeds, ...tables],
      floatOutputs([b, h, nq, v.shape[3]!], [b, h, nq, nk], q.shape, k.shape),
    );
  },
};

export const rotaryAttentionGrad: AcceleratedKernel = {
  kernelName: ROTARY_ATTENTION_GRAD_KERNEL,
  run({ inputs, attrs, backend }, ctx) {
    const { dy, qRotated, kRotated, v, probs, qCos, qSin, kCos, kSin } = inputs as Record<
      string,
      TensorInfo | undefined
    >;
    const { scale, layout, startIndex, chunks } = attrs as unknown as RotaryAttentionGradAttrs;
    if (!dy || !qRotated || !kRotated || !v || !probs)
      throw new Error(
        `${ROTARY_ATTENTION_GRAD_KERNEL}: dy, qRotated, kRotated, v and probs are required`,
      );
    const rotation = { layout, startIndex, chunks };
    const tables = [
      ...sideFeeds('q', qRotated, qCos, qSin, rotation),
      ...sideFeeds('k', kRotated, kCos, kSin, rotation),
    ];
    const dim = qRotated.shape[3]!;
    const pairs = qCos!.shape[2]!;
    return runGraph(
      ctx,
      backend,
      `${ROTARY_ATTENTION_GRAD_KERNEL}:${scale}:${rotationKey(rotation, dim, pairs)}`,
      () => rotaryGradientGraph({ scale, rotation, dim, pairs }),
      [dy, qRotated, kRotated, v, probs, ...tables],
      floatOutputs(qRotated.shape, kRotated.shape, v.shape),
    );
  },
};
