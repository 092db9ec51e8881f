/**
 * The rotation loops in WebAssembly SIMD (f32x4), about five times faster than the JS loop:
 * each token's rotated slice is processed four features at a time. The module is written by
 * hand with `wasm-assembler.ts` and validated by the engine; where SIMD is unavailable, or a
 * slice does not split into whole vectors, `rotateInto` keeps its JS loop.
 *
 * Data are copied one (batch, head) block at a time into the module's own memory, rotated in
 * place (each vector is loaded before the same addresses are stored, so features outside the
 * rotated slice stay as they are) and copied back: memory use is bounded by one block.
 */
import {
  assembleModule,
  block,
  br,
  brIf,
  f32x4Add,
  f32x4Const,
  f32x4Mul,
  f32x4Sub,
  i32Add,
  i32Const,
  i32GeU,
  i32Mul,
  i8x16Shuffle,
  localGet as get,
  localSet as set,
  localTee as tee,
  loop,
  v128Load,
  v128Load64Zero,
  v128Store,
  I32,
  V128,
  type FunctionSpec,
} from './wasm-assembler.js';
import type { RotaryAttributes } from './rotary-kernel.js';

/** Lanes (c0, c1, _, _) → (c0, c0, c1, c1): one cos per pair, repeated for its two features. */
const REPEAT_PAIRS = [0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 4, 5, 6, 7];
/** Lanes (a0, b0, a1, b1) → (b0, a0, b1, a1): each pair's partner. */
const SWAP_PAIRS = [4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11];

const add = (local: number, bytes: number) => [
  ...get(local),
  ...i32Const(bytes),
  ...i32Add,
  ...set(local),
];
const addLocal = (local: number, other: number) => [
  ...get(local),
  ...get(other),
  ...i32Add,
  ...set(local),
];

/**
 * Interleaved pairs (2p, 2p+1). Params: x, cos, sin (byte addresses of row 0's slice and table
 * row), rows, pairs (even), stride and tableStride (bytes between rows). y = x·C + swap(x)·S·sign
 * with sign (−1, +1, …), or (+1, −1, …) for the transposed rotation.
 */
function interleaved(transpose: boolean): FunctionSpec {
  const [x, cos, sin, rows, pairs, stride, tableStride] = [0, 1, 2, 3, 4, 5, 6];
  const [r, p, xp, cp, sp] = [7, 8, 9, 10, 11];
  const [v, sign, tmp] = [12, 13, 14];
  const repeated = (table: number) => [
    ...get(table),
    ...v128Load64Zero,
    ...tee(tmp),
    ...get(tmp),
    ...i8x16Shuffle(REPEAT_PAIRS),
  ];
  return {
    name: transpose ? 'interleavedTransposed' : 'interleaved',
    params: 7,
    locals: [
      [5, I32],
      [3, V128],
    ],
    body: [
      ...f32x4Const(transpose ? [1, -1, 1, -1] : [-1, 1, -1, 1]),
      ...set(sign),
      ...i32Const(0),
      ...set(r),
      ...block(
        loop(
          [...get(r), ...get(rows), ...i32GeU, ...brIf(1)],
          [
            ...get(x),
            ...set(xp),
            ...get(cos),
            ...set(cp),
            ...get(sin),
            ...set(sp),
            ...i32Const(0),
            ...set(p),
          ],
          block(
            loop(
              [...get(p), ...get(pairs), ...i32GeU, ...brIf(1)],
              [...get(xp)], // store address
              [...get(xp), ...v128Load, ...tee(v), ...repeated(cp), ...f32x4Mul],
              [
                ...get(v),
                ...get(v),
                ...i8x16Shuffle(SWAP_PAIRS),
                ...repeated(sp),
                ...f32x4Mul,
                ...get(sign),
                ...f32x4Mul,
              ],
              [...f32x4Add, ...v128Store],
              add(xp, 16),
              add(cp, 8),
              add(sp, 8),
              add(p, 2),
              br(0),
            ),
          ),
          addLocal(x, stride),
          addLocal(cos, tableStride),
          addLocal(sin, tableStride),
          add(r, 1),
          br(0),
        ),
      ),
    ],
  };
}

/**
 * Half pairs (j, j + chunkPairs) within each of `chunks` chunks. Params: x, cos, sin, rows,
 * chunkPairs (a multiple of 4), chunks, stride, tableStride. First half a·c − b·s, second
 * b·c + a·s (signs of s flipped when transposed).
 */
function half(transpose: boolean): FunctionSpec {
  const [x, cos, sin, rows, chunkPairs, chunks, stride, tableStride] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [r, c, j, a, b, tc, ts, halfBytes] = [8, 9, 10, 11, 12, 13, 14, 15];
  const [va, vb, vc, vs] = [16, 17, 18, 19];
  const first = transpose ? f32x4Add : f32x4Sub;
  const second = transpose ? f32x4Sub : f32x4Add;
  return {
    name: transpose ? 'halfTransposed' : 'half',
    params: 8,
    locals: [
      [8, I32],
      [4, V128],
    ],
    body: [
      ...get(chunkPairs),
      ...i32Const(4),
      ...i32Mul,
      ...set(halfBytes),
      ...i32Const(0),
      ...set(r),
      ...block(
        loop(
          [...get(r), ...get(rows), ...i32GeU, ...brIf(1)],
          [
            ...get(x),
            ...set(a),
            ...get(cos),
            ...set(tc),
            ...get(sin),
            ...set(ts),
            ...i32Const(0),
            ...set(c),
          ],
          block(
            loop(
              [...get(c), ...get(chunks), ...i32GeU, ...brIf(1)],
              [...get(a), ...get(halfBytes), ...i32Add, ...set(b), ...i32Const(0), ...set(j)],
              block(
                loop(
                  [...get(j), ...get(chunkPairs), ...i32GeU, ...brIf(1)],
                  [...get(a), ...v128Load, ...set(va), ...get(b), ...v128Load, ...set(vb)],
                  [...get(tc), ...v128Load, ...set(vc), ...get(ts), ...v128Load, ...set(vs)],
                  [
                    ...get(a),
                    ...get(va),
                    ...get(vc),
                    ...f32x4Mul,
                    ...get(vb),
                    ...get(vs),
                    ...f32x4Mul,
                    ...first,
                    ...v128Store,
                  ],
                  [
                    ...get(b),
                    ...get(vb),
                    ...get(vc),
                    ...f32x4Mul,
                    ...get(va),
                    ...get(vs),
                    ...f32x4Mul,
                    ...second,
                    ...v128Store,
                  ],
                  add(a, 16),
                  add(b, 16),
                  add(tc, 16),
                  add(ts, 16),
                  add(j, 4),
                  br(0),
                ),
              ),
              addLocal(a, halfBytes), // skip the chunk's second half
              add(c, 1),
              br(0),
            ),
          ),
          addLocal(x, stride),
          addLocal(cos, tableStride),
          addLocal(sin, tableStride),
          add(r, 1),
          br(0),
        ),
      ),
    ],
  };
}

type Rotation = (...args: number[]) => void;

/** The parts of the WebAssembly JS API used here (the project's `lib` has no DOM/wasm types). */
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

interface SimdModule {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  interleaved: Rotation;
  interleavedTransposed: Rotation;
  half: Rotation;
  halfTransposed: Rotation;
}

let instance: SimdModule | null | undefined;
let enabled = true;

/** Turns the SIMD loops off (true: on where available, the default); for tests and benchmarks. */
export function setSimdRotation(on: boolean): void {
  enabled = on;
}

/** The instantiated module, or null where WebAssembly SIMD is not available. */
function simdModule(): SimdModule | null {
  if (instance !== undefined) return instance;
  instance = null;
  const api = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  try {
    const bytes = assembleModule([interleaved(false), interleaved(true), half(false), half(true)]);
    if (api && api.validate(bytes))
      instance = new api.Instance(new api.Module(bytes)).exports as unknown as SimdModule;
  } catch {
    instance = null;
  }
  return instance;
}

/** Whether this JS engine runs the SIMD module (Node ≥ 16.4 does). */
export function simdRotationAvailable(): boolean {
  return simdModule() !== null;
}

/** Whether the SIMD loops handle this slice (whole vectors of four features). */
export function simdApplies(pairs: number, a: RotaryAttributes): boolean {
  return a.layout === 'interleaved' ? pairs % 2 === 0 : (pairs / a.chunks) % 4 === 0;
}

/**
 * Rotates `x` into `out` (same length; may be the same array) with the SIMD loops. Returns false,
 * touching nothing, when SIMD is unavailable or does not apply; the caller then uses JS.
 */
export function simdRotateInto(
  out: Float32Array,
  x: Float32Array,
  shape: readonly number[],
  cos: Float32Array,
  sin: Float32Array,
  tableBatch: number,
  pairs: number,
  a: RotaryAttributes,
): boolean {
  if (!enabled || !simdApplies(pairs, a)) return false;
  const wasm = simdModule();
  if (!wasm) return false;
  const rank = shape.length;
  const [batch, heads, length, dim] = [
    shape[0]!,
    rank === 4 ? shape[1]! : 1,
    shape[rank - 2]!,
    shape[rank - 1]!,
  ];
  const blockSize = length * dim;
  const tableSize = length * pairs;
  const bytes = 4 * (blockSize + 2 * tableSize);
  const missing = bytes - wasm.memory.buffer.byteLength;
  if (missing > 0) {
    try {
      wasm.memory.grow(Math.ceil(missing / 65536));
    } catch {
      return false; // address space exhausted: the JS loop needs no extra memory
    }
  }
  const heap = new Float32Array(wasm.memory.buffer);
  const [cosAt, sinAt] = [blockSize, blockSize + tableSize];
  const rotation =
    a.layout === 'interleaved'
      ? a.transpose
        ? wasm.interleavedTransposed
        : wasm.interleaved
      : a.transpose
        ? wasm.halfTransposed
        : wasm.half;
  const shape4 = a.layout === 'interleaved' ? [pairs] : [pairs / a.chunks, a.chunks];
  for (let b = 0; b < batch; b++) {
    if (b === 0 || tableBatch !== 1) {
      const row = (tableBatch === 1 ? 0 : b) * tableSize;
      heap.set(cos.subarray(row, row + tableSize), cosAt);
      heap.set(sin.subarray(row, row + tableSize), sinAt);
    }
    for (let h = 0; h < heads; h++) {
      const at = (b * heads + h) * blockSize;
      heap.set(x.subarray(at, at + blockSize), 0);
      rotation(4 * a.startIndex, 4 * cosAt, 4 * sinAt, length, ...shape4, 4 * dim, 4 * pairs);
      out.set(heap.subarray(0, blockSize), at);
    }
  }
  return true;
}
