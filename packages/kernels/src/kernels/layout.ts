/**
 * Data movement without arithmetic: Transpose, Tile, Concat and SplitV.
 *
 * tfjs-wasm computes a source index per element for Tile (60 ms for 1M floats) and slices the
 * innermost axis element by element in SplitV (5.4 ms for the two halves of [8,8,256,64], what a
 * rotary embedding's rotate-half does); ONNX Runtime copies whole rows (0.3 ms each). Transpose
 * and Concat are 2.7× and 8× faster on ONNX Runtime too.
 */
import type { tf } from '@posenc/core';
import { attr, type OnnxElementType, type OnnxGraph } from '../onnx/model.js';
import { runGraph, sizeOf, type AcceleratedKernel } from './kernel-context.js';

type TensorInfo = tf.TensorInfo;

const movable = (dtype: tf.DataType): dtype is 'float32' | 'int32' =>
  dtype === 'float32' || dtype === 'int32';

interface RefCountingBackend {
  incRef(dataId: object): void;
}

/**
 * Whether `perm` keeps the axes longer than 1 in their order, so the transposed data is the
 * data itself (`[1, H, N, D]` ↔ `[H, 1, N, D]`, which a batch of one meets at every head split).
 */
export function keepsDataOrder(shape: readonly number[], perm: readonly number[]): boolean {
  const long = perm.filter((p) => shape[p] !== 1);
  return long.every((p, i) => i === 0 || p > long[i - 1]!);
}

export const transpose: AcceleratedKernel = {
  kernelName: 'Transpose',
  run({ inputs, attrs, backend }, ctx) {
    const { x } = inputs as { x: TensorInfo };
    const { perm } = attrs as { perm: number[] };
    const rank = x.shape.length;
    if (
      perm.length !== rank ||
      new Set(perm).size !== rank ||
      perm.some((p) => !Number.isInteger(p) || p < 0 || p >= rank)
    )
      return undefined;
    // Shared, not copied, when only axes of length 1 move (tensors are immutable, as Identity).
    if (x.dtype !== 'string' && keepsDataOrder(x.shape, perm)) {
      (backend as RefCountingBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: perm.map((p) => x.shape[p]!), dtype: x.dtype };
    }
    // Small tensors stay on the host, except above rank 5: tfjs-wasm's transpose of 5k floats at
    // rank 6 took 0.8 ms, against 62 µs for the same permutation folded to rank 4 (measured).
    if (x.dtype !== 'float32' && x.dtype !== 'int32') return undefined;
    if (sizeOf(x.shape) < ctx.minElements && rank <= 5) return undefined;
    const type = x.dtype;
    const shape = perm.map((p) => x.shape[p]!);
    const build = (): OnnxGraph => ({
      nodes: [
        { op: 'Transpose', inputs: ['x'], outputs: ['y'], attributes: [attr.ints('perm', perm)] },
      ],
      inputs: [{ name: 'x', type }],
      outputs: [{ name: 'y', type }],
    });
    return runGraph(
      ctx,
      backend,
      `Transpose:${type}:${perm}`,
      build,
      [x],
      [{ shape, dtype: type }],
    )[0];
  },
};

/**
 * Tile (what `tf.broadcastTo` runs): tfjs-wasm's Tile computes every output index separately
 * (60 ms for 1M floats). A broadcast (only dims of size 1 repeated) runs ONNX Expand, a
 * multithreaded broadcasting copy, or under `minElements` x · ones on the host, whose SIMD
 * multiply broadcasts; any other tiling runs ONNX Tile, which copies rows.
 */
export const tile: AcceleratedKernel = {
  kernelName: 'Tile',
  run({ inputs, attrs, backend }, ctx) {
    const { x } = inputs as { x: TensorInfo };
    const { reps } = attrs as { reps: number[] };
    const rank = x.shape.length;
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || rank === 0 || reps.length !== rank)
      return undefined;
    if (reps.some((r) => !Number.isInteger(r) || r < 0)) return undefined;
    const shape = x.shape.map((d, i) => d * reps[i]!);
    const type = x.dtype;
    const broadcast = reps.every((r, i) => r === 1 || x.shape[i] === 1);
    if (broadcast && sizeOf(shape) >= ctx.minElements) {
      const memory = ctx.memoryOf(backend);
      const out = memory.allocate(shape, type);
      ctx.sessions
        .get(`Expand:${type}`, () => ({
          nodes: [{ op: 'Expand', inputs: ['x', 'shape'], outputs: ['y'] }],
          inputs: [
            { name: 'x', type },
            { name: 'shape', type: 'int64' },
          ],
          outputs: [{ name: 'y', type }],
        }))
        .run(
          [
            { type, dims: x.shape, data: memory.view(x) },
            { type: 'int64', dims: [rank], data: BigInt64Array.from(shape, BigInt) },
          ],
          [{ type, dims: shape, data: memory.view(out) }],
        );
      return out;
    }
    // Host kernels only, so no size threshold: faster than wasm's Tile at every size.
    if (type === 'float32' && broadcast) {
      const ones = ctx.runHost('Fill', {
        inputs: {},
        attrs: { shape, value: 1, dtype: 'float32' },
        backend,
      });
      const out = ctx.runHost('Multiply', { inputs: { a: x, b: ones }, backend });
      ctx.release(backend, ones);
      return out;
    }
    if (sizeOf(shape) < ctx.minElements) return undefined;
    const memory = ctx.memoryOf(backend);
    const out = memory.allocate(shape, type);
    const graph = ctx.sessions.get(`Tile:${type}`, () => ({
      nodes: [{ op: 'Tile', inputs: ['x', 'repeats'], outputs: ['y'] }],
      inputs: [
        { name: 'x', type },
        { name: 'repeats', type: 'int64' },
      ],
      outputs: [{ name: 'y', type }],
    }));
    if (sizeOf(shape) === 0) return out;
    graph.run(
      [
        { type, dims: x.shape, data: memory.view(x) },
        { type: 'int64', dims: [rank], data: BigInt64Array.from(reps, BigInt) },
      ],
      [{ type, dims: shape, data: memory.view(out) }],
    );
    return out;
  },
};

export const concat: AcceleratedKernel = {
  kernelName: 'Concat',
  run({ inputs, attrs, backend }, ctx) {
    const all = Object.values(inputs) as TensorInfo[];
    const first = all[0];
    if (!first || !movable(first.dtype) || all.some((t) => t.dtype !== first.dtype))
      return undefined;
    const rank = first.shape.length;
    const raw = (attrs as { axis: number }).axis;
    const axis = raw < 0 ? raw + rank : raw;
    if (rank === 0 || !Number.isInteger(axis) || axis < 0 || axis >= rank) return undefined;
    // Empty tensors add nothing; a single remaining tensor is the host's (shared) identity.
    const parts = all.filter((t) => sizeOf(t.shape) > 0);
    if (
      parts.length < 2 ||
      parts.some(
        (t) =>
          t.shape.length !== rank || t.shape.some((d, i) => i !== axis && d !== first.shape[i]),
      )
    )
      return undefined;
    const shape = first.shape.map((d, i) =>
      i === axis ? parts.reduce((n, t) => n + t.shape[axis]!, 0) : d,
    );
    if (sizeOf(shape) < ctx.minElements) return undefined;
    const type = first.dtype as OnnxElementType;
    const names = parts.map((_, i) => `x${i}`);
    const build = (): OnnxGraph => ({
      nodes: [
        { op: 'Concat', inputs: names, outputs: ['y'], attributes: [attr.int('axis', axis)] },
      ],
      inputs: names.map((name) => ({ name, type })),
      outputs: [{ name: 'y', type }],
    });
    return runGraph(ctx, backend, `Concat:${type}:${parts.length}:${axis}`, build, parts, [
      { shape, dtype: first.dtype },
    ])[0];
  },
};

/** Sizes of SplitV's pieces: `n` equal pieces, or the given sizes with one −1 inferred. */
export function splitSizes(dim: number, numOrSizeSplits: number | number[]): number[] | undefined {
  if (typeof numOrSizeSplits === 'number') {
    const n = numOrSizeSplits;
    if (!Number.isInteger(n) || n < 1 || dim % n !== 0) return undefined;
    return Array<number>(n).fill(dim / n);
  }
  const inferred = numOrSizeSplits.filter((s) => s === -1).length;
  const known = numOrSizeSplits.reduce((a, s) => (s === -1 ? a : a + s), 0);
  if (inferred > 1 || numOrSizeSplits.some((s) => !Number.isInteger(s) || s < -1)) return undefined;
  const sizes = numOrSizeSplits.map((s) => (s === -1 ? dim - known : s));
  return sizes.reduce((a, s) => a + s, 0) === dim && sizes.every((s) => s >= 0) ? sizes : undefined;
}

export const splitV: AcceleratedKernel = {
  kernelName: 'SplitV',
  run({ inputs, attrs, backend }, ctx) {
    const { x } = inputs as { x: TensorInfo };
    const { numOrSizeSplits, axis: raw } = attrs as {
      numOrSizeSplits: number | number[];
      axis: number;
    };
    const rank = x.shape.length;
    const axis = raw < 0 ? raw + rank : raw;
    if (!movable(x.dtype) || rank === 0 || !Number.isInteger(axis) || axis < 0 || axis >= rank)
      return undefined;
    // No size threshold: tfjs-wasm slices element by element at any size (10k floats split in
    // two took 0.7 ms at rank 3 and 11 ms at rank 6, measured), far above one ONNX Runtime call.
    const sizes = splitSizes(x.shape[axis]!, numOrSizeSplits);
    if (!sizes || sizes.length < 2 || sizes.includes(0)) return undefined;
    const type = x.dtype;
    const outputs = sizes.map((size) => ({
      shape: x.shape.map((d, i) => (i === axis ? size : d)),
      dtype: type,
    }));
    const memory = ctx.memoryOf(backend);
    const results = outputs.map((o) => memory.allocate(o.shape, o.dtype));
    const names = sizes.map((_, i) => `y${i}`);
    const graph = ctx.sessions.get(`SplitV:${type}:${sizes.length}:${axis}`, () => ({
      nodes: [
        {
          op: 'Split',
          inputs: ['x', 'split'],
          outputs: names,
          attributes: [attr.int('axis', axis)],
        },
      ],
      inputs: [
        { name: 'x', type },
        { name: 'split', type: 'int64' },
      ],
      outputs: names.map((name) => ({ name, type })),
    }));
    graph.run(
      [
        { type, dims: x.shape, data: memory.view(x) },
        {
          type: 'int64',
          dims: [sizes.length],
          data: BigInt64Array.from(sizes, BigInt),
        },
      ],
      results.map((r) => ({ type, dims: r.shape, data: memory.view(r) })),
    );
    return results;
  },
};

export const LAYOUT_KERNELS: readonly AcceleratedKernel[] = [transpose, tile, concat, splitV];
