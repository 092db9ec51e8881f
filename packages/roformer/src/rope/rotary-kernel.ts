/**
 * The rotation itself as one TF.js kernel, `PosencRotary`: for each token and pair p with
 * features (i, j), y_i = x_i·cos − x_j·sin and y_j = x_j·cos + x_i·sin (RoFormer Eq. 34), in one
 * pass over the data. Its gradient is the transposed rotation (the inverse rotation when the
 * tables are unscaled), the same kernel with the sign of sin flipped, so nothing but the
 * cos/sin tables is kept for the backward pass.
 *
 * Why a kernel: written with TF.js ops, `rotate_half` is a reverse, gather or slice/concat over
 * the features, and those run 10–100× slower than an elementwise multiply on the cpu and wasm
 * backends (measured at [8,8,256,64]). The kernel body is plain JS over the typed arrays, the
 * same on every backend that can read and write tensor data synchronously; it is registered
 * for the active backend on first use, unless that backend already has a `PosencRotary`
 * kernel (an engine may bring its own: the contract is core's `PosencRotary`). A backend that cannot (no synchronous
 * `readSync`/`write`) gets the same rotation composed of TF.js ops instead.
 */
import { ROTARY_KERNEL, tf, type RotaryAttributes } from '@posenc/core';
import { pairIndices } from './layout.js';
import { simdRotateInto } from './simd-rotation.js';

// The kernel's contract lives in core, so an engine can bring its own implementation.
export { ROTARY_KERNEL, type RotaryAttributes } from '@posenc/core';

/** cos and sin `[Bt, N, P]` per (batch row or shared, token, pair), float32. */
export interface AngleTables {
  readonly cos: tf.Tensor3D;
  readonly sin: tf.Tensor3D;
}

/**
 * Rotates the pairs of `x` (`[B,H,N,D]` or `[B,N,D]`, float32) by the tables' angles. Features
 * outside `[startIndex, startIndex + 2P)` pass through unchanged. Table batch Bt is 1 (shared
 * positions) or B (positions per batch row).
 */
export function rotate<T extends tf.Tensor>(
  x: T,
  tables: AngleTables,
  attributes: RotaryAttributes,
): T {
  checkRotationShapes(x, tables.cos, tables.sin, attributes);
  if (!useKernel()) return compositeRotate(x, tables, attributes);
  ensureRotaryKernel();
  return tf
    .engine()
    .runKernel(
      ROTARY_KERNEL,
      { x, cos: tables.cos, sin: tables.sin },
      attributes as unknown as tf.NamedAttrMap,
    ) as T;
}

/** Throws, naming the shapes, unless the tables can rotate x as the contract says. */
export function checkRotationShapes(
  x: tf.TensorInfo,
  cos: tf.TensorInfo,
  sin: tf.TensorInfo,
  a: RotaryAttributes,
): void {
  if (x.dtype !== 'float32')
    throw new Error(`rope: x has dtype ${x.dtype}; the rotation needs float32`);
  if (x.shape.length !== 3 && x.shape.length !== 4)
    throw new Error(`rope: x has shape [${x.shape}]; expected [B,H,N,D] or [B,N,D]`);
  const rank = x.shape.length;
  const [batch, length, dim] = [x.shape[0]!, x.shape[rank - 2]!, x.shape[rank - 1]!];
  if (cos.shape.length !== 3 || cos.shape.join() !== sin.shape.join())
    throw new Error(
      `rope: cos [${cos.shape}] and sin [${sin.shape}] must be equal [Bt, N, pairs] tables`,
    );
  const [tableBatch, tableLength, pairs] = cos.shape as [number, number, number];
  if (tableBatch !== 1 && tableBatch !== batch)
    throw new Error(
      `rope: angle tables have batch ${tableBatch}; x has batch ${batch} (tables need batch 1 or ${batch})`,
    );
  if (tableLength !== length)
    throw new Error(`rope: angle tables cover ${tableLength} positions; x has ${length} tokens`);
  if (!Number.isInteger(a.startIndex) || a.startIndex < 0 || a.startIndex + 2 * pairs > dim)
    throw new Error(
      `rope: rotating ${2 * pairs} features from index ${a.startIndex} does not fit in the ${dim} features of x`,
    );
}

/**
 * The kernel body on typed arrays; exported for tests that compare with a written-out formula.
 * WebAssembly SIMD does it where it can (`simd-rotation.ts`); the JS loop below walks each
 * token's features and the table row contiguously (interleaved: pair p at 2p, 2p+1; half: pair
 * j of a chunk at j, j + chunk/2), about twice as fast in V8 as looking pairs up in index arrays.
 */
export function rotateValues(
  x: Float32Array,
  shape: readonly number[],
  cos: Float32Array,
  sin: Float32Array,
  tableBatch: number,
  pairs: number,
  a: RotaryAttributes,
): Float32Array {
  return rotateInto(new Float32Array(x.length), x, shape, cos, sin, tableBatch, pairs, a);
}

/** `rotateValues` into a given output array (of x's length, not overlapping x). */
export function rotateInto(
  out: Float32Array,
  x: Float32Array,
  shape: readonly number[],
  cos: Float32Array,
  sin: Float32Array,
  tableBatch: number,
  pairs: number,
  a: RotaryAttributes,
): Float32Array {
  if (simdRotateInto(out, x, shape, cos, sin, tableBatch, pairs, a)) return out;
  // Products rounded to float32 and the float32 store make each result the float32 operations'
  // (a sum of two float32 values rounded twice, via float64, is still correctly rounded), so
  // this loop and the SIMD one agree bit for bit.
  const fround = Math.fround;
  const rank = shape.length;
  const batch = shape[0]!;
  const heads = rank === 4 ? shape[1]! : 1;
  const length = shape[rank - 2]!;
  const dim = shape[rank - 1]!;
  // Features outside the rotated slice pass through.
  if (2 * pairs < dim) out.set(x);
  const sign = a.transpose ? -1 : 1;
  const interleaved = a.layout === 'interleaved';
  const chunkPairs = pairs / a.chunks; // pairs per axial chunk
  for (let b = 0; b < batch; b++) {
    const tableRows = (tableBatch === 1 ? 0 : b) * length;
    for (let h = 0; h < heads; h++) {
      for (let n = 0; n < length; n++) {
        const row = ((b * heads + h) * length + n) * dim + a.startIndex;
        let t = (tableRows + n) * pairs;
        if (interleaved) {
          for (let i = row, end = row + 2 * pairs; i < end; i += 2, t++) {
            const c = cos[t]!;
            const s = sign * sin[t]!;
            const xi = x[i]!;
            const xj = x[i + 1]!;
            out[i] = fround(xi * c) - fround(xj * s);
            out[i + 1] = fround(xj * c) + fround(xi * s);
          }
        } else {
          for (let chunk = 0; chunk < a.chunks; chunk++) {
            const start = row + chunk * 2 * chunkPairs;
            for (let i = start, end = start + chunkPairs; i < end; i++, t++) {
              const j = i + chunkPairs;
              const c = cos[t]!;
              const s = sign * sin[t]!;
              const xi = x[i]!;
              const xj = x[j]!;
              out[i] = fround(xi * c) - fround(xj * s);
              out[j] = fround(xj * c) + fround(xi * s);
            }
          }
        }
      }
    }
  }
  return out;
}

interface SyncStorage {
  readSync(dataId: object): unknown;
  write(values: Float32Array, shape: number[], dtype: 'float32'): object;
}

/** tfjs-backend-wasm's API for kernels that work on its heap in place (its own JS kernels use it). */
interface HeapStorage {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

function isHeapStorage(backend: unknown): backend is HeapStorage {
  const b = backend as Partial<HeapStorage>;
  return typeof b.makeOutput === 'function' && typeof b.typedArrayFromHeap === 'function';
}

const rotaryKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, cos, sin } = inputs as unknown as {
    x: tf.TensorInfo;
    cos: tf.TensorInfo;
    sin: tf.TensorInfo;
  };
  const a = attrs as unknown as RotaryAttributes;
  checkRotationShapes(x, cos, sin, a);
  if (isHeapStorage(backend)) {
    // Read and write the wasm heap directly: no copy out and back in. The output is allocated
    // first because allocating may grow (and so detach) the heap.
    const out = backend.makeOutput([...x.shape], 'float32');
    rotateInto(
      backend.typedArrayFromHeap(out),
      backend.typedArrayFromHeap(x),
      x.shape,
      backend.typedArrayFromHeap(cos),
      backend.typedArrayFromHeap(sin),
      cos.shape[0]!,
      cos.shape[2]!,
      a,
    );
    return out;
  }
  const storage = backend as unknown as SyncStorage;
  const values = rotateValues(
    storage.readSync(x.dataId) as Float32Array,
    x.shape,
    storage.readSync(cos.dataId) as Float32Array,
    storage.readSync(sin.dataId) as Float32Array,
    cos.shape[0]!,
    cos.shape[2]!,
    a,
  );
  const dataId = storage.write(values, [...x.shape], 'float32');
  return { dataId, shape: [...x.shape], dtype: 'float32' };
};

export type RotaryPath = 'auto' | 'kernel' | 'composite';
let path: RotaryPath = 'auto';
const backendCanRunJsKernel = new Map<string, boolean>();

/**
 * How `rotate` runs: `auto` (default) uses the kernel where the backend can hold it and TF.js ops
 * elsewhere; `kernel` and `composite` force one (for tests and benchmarks).
 */
export function setRotaryPath(p: RotaryPath): void {
  if (p !== 'auto' && p !== 'kernel' && p !== 'composite')
    throw new Error(
      `setRotaryPath: ${JSON.stringify(p)} is not allowed; expected 'auto', 'kernel' or 'composite'`,
    );
  path = p;
}

function useKernel(): boolean {
  if (path !== 'auto') return path === 'kernel';
  const name = tf.getBackend();
  if (tf.getKernel(ROTARY_KERNEL, name) && !backendCanRunJsKernel.has(name)) return true; // brought its own
  let ok = backendCanRunJsKernel.get(name);
  if (ok === undefined) {
    ok = probeSyncStorage();
    backendCanRunJsKernel.set(name, ok);
  }
  return ok;
}

/** Whether the active backend reads and writes tensor data synchronously (cpu, wasm, tensorflow do). */
function probeSyncStorage(): boolean {
  const storage = tf.backend() as unknown as SyncStorage & { disposeData(id: object): void };
  const probe = tf.tensor1d([1.5], 'float32');
  try {
    const read = storage.readSync(probe.dataId) as ArrayLike<number>;
    const id = storage.write(new Float32Array([2.5]), [1], 'float32');
    const back = storage.readSync(id) as ArrayLike<number>;
    storage.disposeData(id);
    return read[0] === 1.5 && back[0] === 2.5;
  } catch {
    return false;
  } finally {
    probe.dispose();
  }
}

/**
 * The rotation from TF.js ops: y = x·cos + x[partner]·(±sin) with full-width tables gathered
 * from the pair tables (cos 1, sin 0 outside the rotated slice). Differentiable as composed.
 */
export function compositeRotate<T extends tf.Tensor>(
  x: T,
  tables: AngleTables,
  a: RotaryAttributes,
): T {
  const dim = x.shape[x.rank - 1]!;
  const pairs = tables.cos.shape[2];
  const { first, second } = pairIndices(2 * pairs, a.layout, a.chunks);
  const pairOf = new Int32Array(dim).fill(pairs); // index `pairs` is the pass-through column
  const partner = Int32Array.from({ length: dim }, (_, j) => j);
  const sign = new Float32Array(dim);
  for (let p = 0; p < pairs; p++) {
    const i = a.startIndex + first[p]!;
    const j = a.startIndex + second[p]!;
    pairOf[i] = p;
    pairOf[j] = p;
    partner[i] = j;
    partner[j] = i;
    sign[i] = a.transpose ? 1 : -1;
    sign[j] = a.transpose ? -1 : 1;
  }
  return tf.tidy(() => {
    const [rows, length] = tables.cos.shape;
    const index = tf.tensor1d(pairOf, 'int32');
    const cos = tf.gather(tf.concat([tables.cos, tf.ones([rows, length, 1])], 2), index, 2);
    let sin = tf.mul(
      tf.gather(tf.concat([tables.sin, tf.zeros([rows, length, 1])], 2), index, 2),
      tf.tensor1d(sign),
    );
    let c: tf.Tensor = cos;
    if (x.rank === 4) {
      c = cos.expandDims(1);
      sin = sin.expandDims(1);
    }
    const swapped = tf.gather(x, tf.tensor1d(partner, 'int32'), x.rank - 1);
    return tf.add(tf.mul(x, c), tf.mul(swapped, sin));
  }) as T;
}

/** Registers the JS kernel for the active backend unless it has one already. */
export function ensureRotaryKernel(): void {
  const backendName = tf.getBackend();
  if (!tf.getKernel(ROTARY_KERNEL, backendName))
    tf.registerKernel({ kernelName: ROTARY_KERNEL, backendName, kernelFunc: rotaryKernel });
}

// The rotation is orthogonal per pair (a scalar multiple of it when tables carry a scale), so
// its vector-Jacobian product is the transposed rotation of dy with the same tables.
if (!tf.getGradient(ROTARY_KERNEL))
  tf.registerGradient({
    kernelName: ROTARY_KERNEL,
    inputsToSave: ['cos', 'sin'],
    gradFunc: (dy, saved, attrs) => {
      const [cos, sin] = saved as [tf.Tensor3D, tf.Tensor3D];
      const a = attrs as unknown as RotaryAttributes;
      return { x: () => rotate(dy as tf.Tensor, { cos, sin }, { ...a, transpose: !a.transpose }) };
    },
  });
