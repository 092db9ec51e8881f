/**
 * core's `PosencRotary` contract (the RoPE rotation the `rope` encodings run) on ONNX Runtime's
 * `com.microsoft` RotaryEmbedding, a multithreaded single pass over x: 0.26 ms for q of
 * [8,8,256,64] against about 1 ms for @posenc/roformer's single-threaded SIMD loop over the wasm
 * heap. The angle tables `[Bt, N, P]` are handed over as the op's `[Bt·N, P]` caches, each token
 * looking up its own row (position ids n, or b·N + n for tables per batch row); the transposed
 * rotation negates sin. A rotated slice that does not start at feature 0, leaves features
 * after it, or splits into chunks (axial RoPE) is sliced out, rotated chunk by chunk with the
 * matching table columns, and concatenated back, in the same run.
 */
import { ROTARY_KERNEL, type RotaryAttributes, type tf } from '@posenc/core';
import {
  attr,
  MICROSOFT_DOMAIN,
  type OnnxGraph,
  type OnnxNode,
  type OnnxTensor,
} from '../onnx/model.js';
import { floatInputs, int64Tensor, onnxNode as node } from '../onnx/nodes.js';
import type { NativeTensorArg } from '../ort/binding.js';
import { sizeOf, type AcceleratedKernel } from './kernel-context.js';

type TensorInfo = tf.TensorInfo;

/** One RotaryEmbedding node on `[B,H,N,m]` with its `[rows, m/2]` tables. */
const rotation = (
  x: string,
  positionIds: string,
  cos: string,
  sin: string,
  output: string,
  interleaved: boolean,
) => ({
  op: 'RotaryEmbedding',
  domain: MICROSOFT_DOMAIN,
  inputs: [x, positionIds, cos, sin],
  outputs: [output],
  attributes: [attr.int('interleaved', +interleaved)],
});

/** Value names of one rotation in a graph; `prefix` keeps the names of several apart. */
export interface RotationNames {
  x: string;
  positionIds: string;
  cos: string;
  sin: string;
  y: string;
  prefix: string;
}

/**
 * The nodes (and constants) that rotate `x` into `y` as the contract says, for a graph of its
 * own or inside a larger one (the fused rotary attention).
 */
export function rotationNodes(
  a: RotaryAttributes,
  dim: number,
  pairs: number,
  n: RotationNames,
): { nodes: OnnxNode[]; initializers: OnnxTensor[] } {
  const interleaved = a.layout === 'interleaved';
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  const p = n.prefix;
  let sin = n.sin;
  if (a.transpose) {
    sin = `${p}negated_sin`;
    nodes.push(node('Neg', [n.sin], sin));
  }
  const end = a.startIndex + 2 * pairs;
  if (a.startIndex === 0 && end === dim && a.chunks === 1) {
    nodes.push(rotation(n.x, n.positionIds, n.cos, sin, n.y, interleaved));
    return { nodes, initializers };
  }
  const slice = (input: string, output: string, from: number, to: number, axis: number) => {
    const name = `${output}_range`;
    initializers.push(
      int64Tensor(`${name}_start`, [from]),
      int64Tensor(`${name}_end`, [to]),
      int64Tensor(`${name}_axis`, [axis]),
    );
    nodes.push(node('Slice', [input, `${name}_start`, `${name}_end`, `${name}_axis`], output));
  };
  const parts: string[] = [];
  if (a.startIndex > 0) {
    slice(n.x, `${p}before`, 0, a.startIndex, 3);
    parts.push(`${p}before`);
  }
  const width = (2 * pairs) / a.chunks;
  const tablePairs = pairs / a.chunks;
  for (let c = 0; c < a.chunks; c++) {
    const from = a.startIndex + c * width;
    slice(n.x, `${p}chunk_${c}`, from, from + width, 3);
    slice(n.cos, `${p}cos_${c}`, c * tablePairs, (c + 1) * tablePairs, 1);
    slice(sin, `${p}sin_${c}`, c * tablePairs, (c + 1) * tablePairs, 1);
    nodes.push(
      rotation(
        `${p}chunk_${c}`,
        n.positionIds,
        `${p}cos_${c}`,
        `${p}sin_${c}`,
        `${p}rotated_${c}`,
        interleaved,
      ),
    );
    parts.push(`${p}rotated_${c}`);
  }
  if (end < dim) {
    slice(n.x, `${p}after`, end, dim, 3);
    parts.push(`${p}after`);
  }
  nodes.push(node('Concat', parts, n.y, [attr.int('axis', 3)]));
  return { nodes, initializers };
}

function rotaryGraph(a: RotaryAttributes, dim: number, pairs: number): OnnxGraph {
  const names = { x: 'x', positionIds: 'position_ids', cos: 'cos', sin: 'sin', y: 'y', prefix: '' };
  return {
    ...rotationNodes(a, dim, pairs, names),
    inputs: [
      ...floatInputs(['x']),
      { name: 'position_ids', type: 'int64' },
      ...floatInputs(['cos', 'sin']),
    ],
    outputs: floatInputs(['y']),
  };
}

/**
 * Whether the contract's rotation of `x` (`[B,H,N,D]` or `[B,N,D]`) by `[Bt,N,P]` tables is one
 * this engine runs: the shapes fit and the rotated slice splits into its chunks' pairs.
 */
export function rotationFits(
  x: readonly number[],
  table: readonly number[],
  a: Pick<RotaryAttributes, 'startIndex' | 'chunks'>,
): boolean {
  const rank = x.length;
  if ((rank !== 3 && rank !== 4) || table.length !== 3) return false;
  const [batch, length, dim] = [x[0]!, x[rank - 2]!, x[rank - 1]!];
  const [tableBatch, tableLength, pairs] = table as [number, number, number];
  if (tableLength !== length || (tableBatch !== 1 && tableBatch !== batch)) return false;
  return (2 * pairs) % (2 * a.chunks) === 0 && a.startIndex + 2 * pairs <= dim;
}

/** Row of the `[Bt·N, P]` tables each token reads: n, or b·N + n when every row has its own. */
const positionIds = new Map<string, BigInt64Array>();
export function tableRows(batch: number, length: number, tableBatch: number): BigInt64Array {
  const key = `${batch},${length},${tableBatch}`;
  let ids = positionIds.get(key);
  if (!ids) {
    ids = new BigInt64Array(batch * length);
    for (let b = 0; b < batch; b++)
      for (let n = 0; n < length; n++)
        ids[b * length + n] = BigInt((tableBatch === 1 ? 0 : b * length) + n);
    if (positionIds.size >= 16) positionIds.delete(positionIds.keys().next().value!);
    positionIds.set(key, ids);
  }
  return ids;
}

/**
 * Takes what the contract allows (roformer checks shapes before calling); anything else is
 * left to the caller's error, as the host has no rotation kernel.
 */
export const rotary: AcceleratedKernel = {
  kernelName: ROTARY_KERNEL,
  run({ inputs, attrs, backend }, ctx) {
    const { x, cos, sin } = inputs as Record<'x' | 'cos' | 'sin', TensorInfo>;
    const a = attrs as unknown as RotaryAttributes;
    if ([x, cos, sin].some((t) => t.dtype !== 'float32')) return undefined;
    if (!rotationFits(x.shape, cos.shape, a)) return undefined;
    const rank = x.shape.length;
    const [batch, length, dim] = [x.shape[0]!, x.shape[rank - 2]!, x.shape[rank - 1]!];
    const heads = rank === 4 ? x.shape[1]! : 1;
    const [tableBatch, , pairs] = cos.shape as [number, number, number];
    const memory = ctx.memoryOf(backend);
    const out = memory.allocate(x.shape, 'float32');
    if (sizeOf(x.shape) === 0) return out;
    // Views after the allocation, which may move the wasm heap.
    const table = (t: TensorInfo): NativeTensorArg => ({
      type: 'float32',
      dims: [tableBatch * length, pairs],
      data: memory.view(t),
    });
    const feeds: NativeTensorArg[] = [
      { type: 'float32', dims: [batch, heads, length, dim], data: memory.view(x) },
      { type: 'int64', dims: [batch, length], data: tableRows(batch, length, tableBatch) },
      table(cos),
      table(sin),
    ];
    const key = `${ROTARY_KERNEL}:${a.layout}:${a.startIndex}:${a.chunks}:${+a.transpose}:${dim}:${pairs}`;
    ctx.sessions
      .get(key, () => rotaryGraph(a, dim, pairs))
      .run(feeds, [{ type: 'float32', dims: [batch, heads, length, dim], data: memory.view(out) }]);
    return out;
  },
};
