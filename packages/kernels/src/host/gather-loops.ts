/**
 * The gather and scatter-add loops of `PosencGatherLast` / `PosencScatterAddLast`, compiled to
 * WebAssembly and run on the wasm host's heap in place (the module imports the host's memory).
 * V8 runs the same loops in JavaScript over typed-array views at about 2 ms for iRPE's
 * `[8,3,9850]` read at 38,809 ids; this module takes about 0.5 ms: no bounds check per
 * element, no index conversions. Source: `gather-loops.wat` (its test checks these bytes are its
 * assembly). Where no module can be made (a cpu host, or a host memory this module cannot
 * import, such as the threaded build's shared memory), callers keep the JavaScript loops.
 */

import { wasmApi, type WasmMemory } from './webassembly.js';

/** The module's exports; every pointer is a byte offset into the host memory. */
export interface GatherLoops {
  gather(from: number, size: number, ids: number, picks: number, to: number, rows: number): void;
  scatterAdd(
    from: number,
    picks: number,
    ids: number,
    to: number,
    size: number,
    rows: number,
  ): void;
}

/** wat2wasm of `gather-loops.wat` (wabt, default features), base64. */
export const GATHER_LOOPS_WASM =
  'AGFzbQEAAAABCgFgBn9/f39/fwACEAEEaG9zdAZtZW1vcnkCAAADAwIAAAcXAgZnYXRoZXIAAApzY2F0dGVyQWRkAAEKuAICYAECfwJAA0AgBUUNASACIQYgAiADQQJ0aiEHAkADQCAGIAdPDQEgBCAAIAYoAgBBAnRqKgIAOAIAIARBBGohBCAGQQRqIQYMAAsLIAAgAUECdGohACAFQQFrIQUMAAsLC9QBAwR/AXwBfyADQQAgBCAFbEECdPwLACABRQRADwsCQANAIAVFDQEgAiEGIAIgAUECdGohByACKAIAIQhEAAAAAAAAAAAhCgJAA0AgBiAHTw0BIAYoAgAhCSAJIAhHBEAgAyAIQQJ0aiELIAsgCyoCALsgCqC2OAIAIAkhCEQAAAAAAAAAACEKCyAKIAAqAgC7oCEKIABBBGohACAGQQRqIQYMAAsLIAMgCEECdGohCyALIAsqAgC7IAqgtjgCACADIARBAnRqIQMgBUEBayEFDAALCws=';

let compiled: object | undefined;
const instances = new WeakMap<WasmMemory, GatherLoops | null>();

/** The loops bound to `memory`, or undefined when this module cannot import it. */
export function gatherLoopsFor(memory: WasmMemory): GatherLoops | undefined {
  let loops = instances.get(memory);
  if (loops === undefined) {
    try {
      compiled ??= new wasmApi.Module(Buffer.from(GATHER_LOOPS_WASM, 'base64'));
      const instance = new wasmApi.Instance(compiled, { host: { memory } });
      loops = instance.exports as unknown as GatherLoops;
    } catch {
      // A shared (threaded) memory does not match the import's unshared type.
      loops = null;
    }
    instances.set(memory, loops);
  }
  return loops ?? undefined;
}
