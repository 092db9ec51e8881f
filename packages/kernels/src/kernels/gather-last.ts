/**
 * core's `PosencGatherLast` and `PosencScatterAddLast`: a gather along the last axis by one
 * shared index and its scatter-add, each one pass of a loop over the host's memory in place: on
 * the wasm host the loops of `gather-loops.wat`, run on the heap by a module that imports it,
 * elsewhere the same loops in JavaScript over typed-array views. ONNX Gather along the last axis
 * copies one element per index through its generic block loop (measured 4 ms for iRPE's
 * `[8,3,9850]` read at 38,809 ids, against about 2 ms in JavaScript and 0.5 ms in wasm), and
 * ONNX has no scatter-add that broadcasts one index over leading axes.
 */
import { GATHER_LAST_KERNEL, SCATTER_ADD_LAST_KERNEL, type tf } from '@posenc/core';
import type { ScatterAddLastAttrs } from '@posenc/core';
import { gatherLoopsFor } from '../host/gather-loops.js';
import type { HostArray, HostMemory } from '../host/host-memory.js';
import { sizeOf, type AcceleratedKernel } from './kernel-context.js';

type TensorInfo = tf.TensorInfo;

/** Fails, as TF.js's gather on cpu does, on an index value outside [0, size). */
function checkRange(kernel: string, index: HostArray, size: number): void {
  for (let p = 0; p < index.length; p++) {
    const v = index[p]!;
    if (v < 0 || v >= size)
      throw new Error(
        `${kernel}: index[${p}] = ${v} is not allowed; expected a value in [0, ${size})`,
      );
  }
}

/**
 * to[r·picks + p] = from[r·size + ids[p]] in JavaScript: the loop where the wasm module cannot
 * run, and the reference its test compares with. Typed as what they are, so the element
 * accesses stay monomorphic (a union type makes V8's loop several times slower).
 */
export function gatherRows(
  from: Float32Array,
  size: number,
  ids: Int32Array,
  to: Float32Array,
  rows: number,
): void {
  const picks = ids.length;
  for (let r = 0; r < rows; r++) {
    const source = r * size;
    const target = r * picks;
    for (let p = 0; p < picks; p++) to[target + p] = from[source + ids[p]!]!;
  }
}

/**
 * to[r·size + ids[p]] += from[r·picks + p] over p, with `to` zeroed first, in JavaScript. Runs of
 * equal ids are summed in a register and stored once per run. iRPE's ids repeat in long runs
 * (57% of neighbours share a bucket on a 14×14 grid: the far offsets are clipped), and
 * `to[id] += x` on one address after another waits on its own previous store each time:
 * 5.1 → 1.9 ms on iRPE's [8,3,38809] (medians of 31, 2 shared cores).
 */
export function scatterAddRows(
  from: Float32Array,
  ids: Int32Array,
  to: Float32Array,
  size: number,
  rows: number,
): void {
  const picks = ids.length;
  to.fill(0);
  if (picks === 0) return;
  for (let r = 0; r < rows; r++) {
    const source = r * picks;
    const target = r * size;
    let run = ids[0]!;
    let sum = 0;
    for (let p = 0; p < picks; p++) {
      const id = ids[p]!;
      if (id !== run) {
        to[target + run]! += sum;
        run = id;
        sum = 0;
      }
      sum += from[source + p]!;
    }
    to[target + run]! += sum;
  }
}

/** The wasm loops on this memory's heap, if it has one they can import. */
const loopsOf = (memory: HostMemory) => (memory.heap ? gatherLoopsFor(memory.heap) : undefined);

function takes(x: TensorInfo | undefined, index: TensorInfo | undefined): boolean {
  return (
    !!x &&
    !!index &&
    x.dtype === 'float32' &&
    index.dtype === 'int32' &&
    x.shape.length > 0 &&
    index.shape.length === 1
  );
}

export const gatherLast: AcceleratedKernel = {
  kernelName: GATHER_LAST_KERNEL,
  run({ inputs, backend }, ctx) {
    const { x, index } = inputs as Record<string, TensorInfo | undefined>;
    if (!takes(x, index)) return undefined;
    const size = x!.shape[x!.shape.length - 1]!;
    const picks = index!.shape[0]!;
    const leading = x!.shape.slice(0, -1);
    const rows = sizeOf(leading);
    const memory = ctx.memoryOf(backend);
    checkRange(GATHER_LAST_KERNEL, memory.view(index!), size);
    const out = memory.allocate([...leading, picks], 'float32');
    // Views after the allocation: it may have moved the wasm heap.
    const from = memory.view(x!) as Float32Array;
    const ids = memory.view(index!) as Int32Array;
    const to = memory.view(out) as Float32Array;
    const loops = loopsOf(memory);
    if (loops) {
      loops.gather(from.byteOffset, size, ids.byteOffset, picks, to.byteOffset, rows);
      return out;
    }
    gatherRows(from, size, ids, to, rows);
    return out;
  },
};

export const scatterAddLast: AcceleratedKernel = {
  kernelName: SCATTER_ADD_LAST_KERNEL,
  run({ inputs, attrs, backend }, ctx) {
    const { x, index } = inputs as Record<string, TensorInfo | undefined>;
    const { size } = attrs as unknown as ScatterAddLastAttrs;
    if (!takes(x, index) || !Number.isInteger(size) || size < 0) return undefined;
    const picks = index!.shape[0]!;
    if (x!.shape[x!.shape.length - 1] !== picks) return undefined;
    const leading = x!.shape.slice(0, -1);
    const rows = sizeOf(leading);
    const memory = ctx.memoryOf(backend);
    checkRange(SCATTER_ADD_LAST_KERNEL, memory.view(index!), size);
    const out = memory.allocate([...leading, size], 'float32');
    const from = memory.view(x!) as Float32Array;
    const ids = memory.view(index!) as Int32Array;
    const to = memory.view(out) as Float32Array;
    const loops = loopsOf(memory);
    if (loops) {
      loops.scatterAdd(from.byteOffset, picks, ids.byteOffset, to.byteOffset, size, rows);
      return out;
    }
    scatterAddRows(from, ids, to, size, rows);
    return out;
  },
};
