/**
 * BatchMatMul and _FusedMatMul on MLAS's SGEMM, through ONNX Runtime's `com.microsoft`
 * `FusedMatMul` contrib op: `transA`/`transB` are handed to the GEMM as transpose flags (no
 * transposed copy is made), and batch dims broadcast as in numpy, like TF.js's BatchMatMul.
 *
 * _FusedMatMul adds the bias and applies the activation in the same graph, with the semantics of
 * tfjs-backend-cpu's `applyActivation`: relu, relu6 = clip(0, 6), elu (α = 1), prelu with the
 * given weights, leakyrelu with `leakyreluAlpha`, sigmoid.
 */
import type { tf } from '@posenc/core';
import { attr, type OnnxGraph, type OnnxNode, type OnnxTensor } from '../onnx/model.js';
import { fusedMatMulNode, scalarTensor as scalar } from '../onnx/nodes.js';
import {
  broadcastShapes,
  runGraph,
  type AcceleratedKernel,
  type KernelArgs,
  type KernelContext,
} from './kernel-context.js';

type TensorInfo = tf.TensorInfo;

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

interface FusedAttrs extends MatMulAttrs {
  activation?: string;
  leakyreluAlpha?: number;
}

/** Output shape of a (possibly transposed, batch-broadcast) matrix product, or undefined if invalid. */
export function matMulShape(
  a: readonly number[],
  b: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): number[] | undefined {
  if (a.length < 2 || b.length < 2) return undefined;
  const m = transposeA ? a[a.length - 1]! : a[a.length - 2]!;
  const ka = transposeA ? a[a.length - 2]! : a[a.length - 1]!;
  const kb = transposeB ? b[b.length - 1]! : b[b.length - 2]!;
  const n = transposeB ? b[b.length - 2]! : b[b.length - 1]!;
  if (ka !== kb) return undefined;
  const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
  return batch && [...batch, m, n];
}

/** Nodes applying a TF.js fused activation to `input`, ending in `output`; `undefined` if unknown. */
export function activationGraph(
  activation: string,
  input: string,
  output: string,
  leakyreluAlpha: number,
): { nodes: OnnxNode[]; initializers: OnnxTensor[]; extraInputs: string[] } | undefined {
  const one = (op: string, attributes: OnnxNode['attributes'] = [], inputs = [input]) => ({
    nodes: [{ op, inputs, outputs: [output], attributes }],
    initializers: [] as OnnxTensor[],
    extraInputs: [] as string[],
  });
  switch (activation) {
    case 'linear':
      return one('Identity');
    case 'relu':
      return one('Relu');
    case 'sigmoid':
      return one('Sigmoid');
    case 'elu':
      return one('Elu', [attr.float('alpha', 1)]);
    case 'leakyrelu':
      return one('LeakyRelu', [attr.float('alpha', leakyreluAlpha)]);
    case 'relu6':
      return {
        ...one('Clip', [], [input, 'clip_min', 'clip_max']),
        initializers: [scalar('clip_min', 0), scalar('clip_max', 6)],
      };
    case 'prelu':
      return { ...one('PRelu', [], [input, 'prelu_weights']), extraInputs: ['prelu_weights'] };
    default:
      return undefined;
  }
}

export const batchMatMul: AcceleratedKernel = {
  kernelName: 'BatchMatMul',
  run({ inputs, attrs, backend }: KernelArgs, ctx: KernelContext) {
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as MatMulAttrs;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
    const shape = matMulShape(a.shape, b.shape, transposeA, transposeB);
    if (!shape) return undefined; // let the host kernel report the shape error
    const key = `BatchMatMul:${+transposeA}${+transposeB}`;
    const build = (): OnnxGraph => ({
      nodes: [fusedMatMulNode('a', 'b', 'y', transposeA, transposeB)],
      inputs: [
        { name: 'a', type: 'float32' },
        { name: 'b', type: 'float32' },
      ],
      outputs: [{ name: 'y', type: 'float32' }],
    });
    return runGraph(ctx, backend, key, build, [a, b], [{ shape, dtype: 'float32' }])[0];
  },
};

export const fusedMatMul: AcceleratedKernel = {
  kernelName: '_FusedMatMul',
  run({ inputs, attrs, backend }: KernelArgs, ctx: KernelContext) {
    const { a, b, bias, preluActivationWeights } = inputs as Record<string, TensorInfo | undefined>;
    const {
      transposeA,
      transposeB,
      activation = 'linear',
      leakyreluAlpha = 0.2,
    } = attrs as unknown as FusedAttrs;
    if (!a || !b || a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
    if (bias && bias.dtype !== 'float32') return undefined;
    if (activation === 'prelu' && preluActivationWeights?.dtype !== 'float32') return undefined;
    const shape = matMulShape(a.shape, b.shape, transposeA, transposeB);
    if (!shape) return undefined;
    if (bias && !broadcastShapes(shape, bias.shape)) return undefined;
    const act = activationGraph(activation, bias ? 'biased' : 'product', 'y', leakyreluAlpha);
    if (!act) return undefined;
    const key = `_FusedMatMul:${+transposeA}${+transposeB}:${bias ? 'bias' : ''}:${activation}:${activation === 'leakyrelu' ? leakyreluAlpha : ''}`;
    const build = (): OnnxGraph => {
      const nodes: OnnxNode[] = [fusedMatMulNode('a', 'b', 'product', transposeA, transposeB)];
      if (bias) nodes.push({ op: 'Add', inputs: ['product', 'bias'], outputs: ['biased'] });
      nodes.push(...act.nodes);
      const graphInputs = ['a', 'b', ...(bias ? ['bias'] : []), ...act.extraInputs];
      return {
        nodes,
        inputs: graphInputs.map((name) => ({ name, type: 'float32' as const })),
        outputs: [{ name: 'y', type: 'float32' }],
        initializers: act.initializers,
      };
    };
    const feeds = [
      a,
      b,
      ...(bias ? [bias] : []),
      ...(activation === 'prelu' ? [preluActivationWeights!] : []),
    ];
    return runGraph(ctx, backend, key, build, feeds, [{ shape, dtype: 'float32' }])[0];
  },
};
