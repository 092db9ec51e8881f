/**
 * Just enough of the WebAssembly binary format (core spec §5 and the fixed-width SIMD proposal)
 * to write the rotation loops of `simd-rotation.ts` by hand: no toolchain is needed at build
 * time, and the bytes are validated by the engine before use.
 */

/** Unsigned LEB128. */
export function u32(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128. */
export function s32(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

export const vec = (items: number[][]): number[] => [...u32(items.length), ...items.flat()];
const name = (s: string): number[] => [...u32(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const section = (id: number, body: number[]): number[] => [id, ...u32(body.length), ...body];

export const I32 = 0x7f;
export const V128 = 0x7b;

// Instructions (each returns its bytes).
export const localGet = (i: number) => [0x20, ...u32(i)];
export const localSet = (i: number) => [0x21, ...u32(i)];
export const localTee = (i: number) => [0x22, ...u32(i)];
export const i32Const = (n: number) => [0x41, ...s32(n)];
export const i32Add = [0x6a];
export const i32Mul = [0x6c];
export const i32GeU = [0x4f];
export const brIf = (depth: number) => [0x0d, ...u32(depth)];
export const br = (depth: number) => [0x0c, ...u32(depth)];
/** `block … end` with no result. */
export const block = (...body: number[][]) => [0x02, 0x40, ...body.flat(), 0x0b];
/** `loop … end` with no result. */
export const loop = (...body: number[][]) => [0x03, 0x40, ...body.flat(), 0x0b];

const simd = (op: number, ...immediates: number[]) => [0xfd, ...u32(op), ...immediates];
/** v128.load / v128.store with alignment hint 1 byte (unaligned is allowed), offset 0. */
export const v128Load = simd(0x00, 0, 0);
export const v128Store = simd(0x0b, 0, 0);
/** Loads 8 bytes into the low half, zeroes the high half. */
export const v128Load64Zero = simd(0x5d, 0, 0);
export const i8x16Shuffle = (lanes: readonly number[]) => simd(0x0d, ...lanes);
/** A v128 constant of four float32 lanes. */
export const f32x4Const = (lanes: readonly [number, number, number, number]) =>
  simd(0x0c, ...new Uint8Array(new Float32Array(lanes).buffer));
export const f32x4Add = simd(0xe4);
export const f32x4Sub = simd(0xe5);
export const f32x4Mul = simd(0xe6);

export interface FunctionSpec {
  readonly name: string;
  readonly params: number;
  /** Extra locals after the (i32) parameters, as [count, type] groups. */
  readonly locals: [number, number][];
  readonly body: number[];
}

/**
 * A module that defines (and exports as `memory`) one memory of `pages` 64 KiB pages and
 * exports each function; every parameter is i32 and no function returns a value.
 */
export function assembleModule(functions: readonly FunctionSpec[], pages = 1): Uint8Array {
  const types = vec(
    functions.map((f) => [0x60, ...vec(Array.from({ length: f.params }, () => [I32])), ...vec([])]),
  );
  const funcs = vec(functions.map((_, i) => u32(i)));
  const memory = vec([[0x00, ...u32(pages)]]);
  const exports = vec([
    [...name('memory'), 0x02, ...u32(0)],
    ...functions.map((f, i) => [...name(f.name), 0x00, ...u32(i)]),
  ]);
  const code = vec(
    functions.map((f) => {
      const body = [
        ...vec(f.locals.map(([count, type]) => [...u32(count), type])),
        ...f.body,
        0x0b,
      ];
      return [...u32(body.length), ...body];
    }),
  );
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, types),
    ...section(3, funcs),
    ...section(5, memory),
    ...section(7, exports),
    ...section(10, code),
  ]);
}
