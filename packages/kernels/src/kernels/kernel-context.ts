/**
 * What an accelerated kernel needs: the host's memory, the session cache, and the size below
 * which the host's own kernel is faster than a call into ONNX Runtime.
 */
import type { tf } from '@posenc/core';
import type { OnnxElementType, OnnxGraph } from '../onnx/model.js';
import type { NativeTensorArg } from '../ort/binding.js';
import type { SessionCache } from '../ort/session-cache.js';
import type { HostMemory } from '../host/host-memory.js';

type TensorInfo = tf.TensorInfo;

export interface KernelContext {
  readonly sessions: SessionCache;
  /** Memory of the backend instance a kernel is called with. */
  memoryOf(backend: unknown): HostMemory;
  /**
   * Elementwise, reduction and softmax kernels run on ONNX Runtime only from this many output
   * elements on (a call costs a few microseconds; the host's own loop wins on small tensors).
   */
  readonly minElements: number;
  /** Runs the host backend's own kernel (for fast paths composed of host kernels). */
  runHost(kernelName: string, args: KernelArgs): TensorInfo;
  /** Frees an intermediate tensor made by `runHost` or `runGraph`. */
  release(backend: unknown, info: TensorInfo): void;
}

export interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined>;
  attrs?: Record<string, unknown>;
  backend: unknown;
}

/** An ONNX-backed implementation of a TF.js kernel; `undefined` hands the call to the host kernel. */
export interface AcceleratedKernel {
  readonly kernelName: string;
  run(args: KernelArgs, ctx: KernelContext): TensorInfo | TensorInfo[] | undefined;
}

export function onnxType(dtype: tf.DataType): OnnxElementType | undefined {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool' ? dtype : undefined;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export interface OutputSpec {
  shape: readonly number[];
  dtype: tf.DataType;
}

/**
 * Runs the cached graph `key` on `inputs` (host tensors, or arrays in JS memory such as a cached
 * mask), writing into freshly allocated host tensors of the given specs, and returns them.
 * Outputs are allocated before any view is taken because an allocation may grow (and so move)
 * the wasm heap.
 */
export function runGraph(
  ctx: KernelContext,
  backend: unknown,
  key: string,
  build: () => OnnxGraph,
  inputs: readonly (TensorInfo | NativeTensorArg)[],
  outputs: readonly OutputSpec[],
): TensorInfo[] {
  const memory = ctx.memoryOf(backend);
  const results = outputs.map((o) => memory.allocate(o.shape, o.dtype));
  if (outputs.every((o) => sizeOf(o.shape) === 0)) return results;
  const arg = (t: TensorInfo | NativeTensorArg): NativeTensorArg =>
    'dataId' in t ? { type: onnxType(t.dtype)!, dims: t.shape, data: memory.view(t) } : t;
  ctx.sessions.get(key, build).run(inputs.map(arg), results.map(arg));
  return results;
}

/** Numpy/TF broadcasting of two shapes, or undefined when they do not broadcast. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out[i] = da === 1 ? db : da;
  }
  return out;
}
