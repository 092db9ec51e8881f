/**
 * The page's script (bundled for a browser by the test): the wasm backend is imported, as an
 * application would, and `posencBrowserCase(engine)` runs the case on the engine named.
 */
import { selectEngine, type EngineName } from '@posenc/core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { runBrowserCase } from './browser-case.js';

export function installBrowserCase(): void {
  const { href } = (globalThis as unknown as { location: { href: string } }).location;
  setWasmPaths(new URL('/wasm/', href).href);
  Object.assign(globalThis, {
    posencBrowserCase: async (engine: EngineName) => {
      await selectEngine({ engine, log: null });
      return runBrowserCase(new URL('/weights.safetensors', href));
    },
  });
}
