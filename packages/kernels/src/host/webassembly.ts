/**
 * The part of the WebAssembly JavaScript API this package uses, typed here: Node has the global,
 * but the es2022 lib this repository compiles against types it only in the DOM lib, which a
 * Node package should not pull in.
 */

/** A `WebAssembly.Memory`. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

export const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export const isWasmMemory = (x: unknown): x is WasmMemory => x instanceof wasmApi.Memory;
