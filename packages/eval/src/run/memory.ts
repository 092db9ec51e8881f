/**
 * The memory a run may use: the engines that keep tensors in WebAssembly memory (wasm, and the
 * kernels engine, whose host is the wasm backend) address at most 4 GiB; every engine is bound
 * by the machine's memory. Settings whose estimate exceeds the limit are refused up front.
 */
import { totalmem } from 'node:os';
import { UsageError } from '../usage-error.js';

const WASM_HEAP = 4 * 1024 ** 3;

export function memoryLimit(engine: string): { bytes: number; why: string } {
  const machine = Math.floor(totalmem() * 0.8);
  if ((engine === 'wasm' || engine === 'kernels') && WASM_HEAP < machine)
    return {
      bytes: WASM_HEAP,
      why: `the ${engine} engine keeps tensors in WebAssembly memory (4 GiB at most)`,
    };
  return { bytes: machine, why: `80% of this machine's ${formatBytes(totalmem())}` };
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** Throws a UsageError naming the estimate and the limit when the settings cannot fit. */
export function checkMemory(estimate: number, engine: string, settings: string): void {
  const limit = memoryLimit(engine);
  if (estimate > limit.bytes)
    throw new UsageError(
      `${settings} need about ${formatBytes(estimate)} at their peak, more than the ${formatBytes(limit.bytes)} available (${limit.why}); use a smaller --batch, --dim, --layers or length`,
    );
}
