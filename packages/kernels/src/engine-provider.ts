/**
 * The engine provider core's `initEngine()` calls: it registers the `posenc-kernels` backend
 * and names it, or throws one line (e.g. onnxruntime-node has no binary for this platform) so
 * core falls back to the next engine.
 */
import { registerEngineProvider, type EngineProvider } from '@posenc/core';
import { registerKernelsBackend, type KernelsBackendInfo } from './backend.js';

/** A provider around `register` (a parameter so tests can make it fail). */
export function createKernelsEngineProvider(
  register: () => Promise<KernelsBackendInfo> = registerKernelsBackend,
): EngineProvider {
  return {
    name: 'kernels',
    async load() {
      try {
        return (await register()).name;
      } catch (e) {
        throw new Error(String(e instanceof Error ? e.message : e).split('\n')[0]);
      }
    },
  };
}

export const kernelsEngineProvider: EngineProvider = createKernelsEngineProvider();

export function registerKernelsEngine(): void {
  registerEngineProvider(kernelsEngineProvider);
}
