/**
 * Test helpers: run the same computation on the cpu backend (the reference) and on a kernels
 * backend, and compare the numbers.
 */
import { expect } from 'vitest';
import { tf } from '@posenc/core';
import { registerKernelsBackend, type KernelsBackendInfo } from '../backend.js';
import type { HostName } from '../host/host-memory.js';

/** A backend with every ONNX-backed kernel of this package and no size threshold. */
export function allKernelsBackend(host: HostName = 'wasm'): Promise<KernelsBackendInfo> {
  return registerKernelsBackend({
    name: `posenc-kernels-all-${host}`,
    host,
    kernels: 'all',
    minElements: 0,
  });
}

/** Deterministic values in [lo, hi) (a linear congruential generator; tests must not flake). */
export function randomValues(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = lo + ((s >>> 8) / 2 ** 24) * (hi - lo);
  }
  return out;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Runs `f` on `backend` inside tidy and returns its outputs' values and shapes (copied out). */
export async function runOn(
  backend: string,
  f: () => tf.Tensor | tf.Tensor[],
): Promise<{ values: Float32Array[]; shapes: number[][] }> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const out = f();
    const list = Array.isArray(out) ? out : [out];
    return {
      values: list.map((t) => Float32Array.from(t.dataSync() as ArrayLike<number>)),
      shapes: list.map((t) => t.shape),
    };
  });
}

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  label: string,
  tol: Tolerance = {},
): void {
  const { rtol = 1e-5, atol = 1e-5 } = tol;
  expect(actual.length, `${label}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      expect(Number.isNaN(a), `${label}[${i}]: expected NaN, got ${a}`).toBe(true);
      continue;
    }
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e)))
      expect.fail(
        `${label}[${i}] = ${a}, expected ${e} (|Δ| = ${Math.abs(a - e)}, allowed ${atol + rtol * Math.abs(e)})`,
      );
  }
}

/**
 * Runs `f` on `backend` and `reference` (default `f`) on cpu, and expects equal shapes and close
 * values; returns how many calls of `kernel` this package handled meanwhile, so a test can check
 * that our kernel, not the host's, was tested.
 */
export async function expectSameAsCpu(
  info: KernelsBackendInfo,
  kernel: string,
  f: () => tf.Tensor | tf.Tensor[],
  label: string,
  tol?: Tolerance,
  reference: () => tf.Tensor | tf.Tensor[] = f,
): Promise<number> {
  const expected = await runOn('cpu', reference);
  const before = info.replacedCalls.get(kernel) ?? 0;
  const actual = await runOn(info.name, f);
  const handled = (info.replacedCalls.get(kernel) ?? 0) - before;
  expect(actual.shapes, `${label}: shapes`).toEqual(expected.shapes);
  actual.values.forEach((v, i) => expectClose(v, expected.values[i]!, `${label} output ${i}`, tol));
  return handled;
}

/**
 * Runs `f` and expects it to leave as many tensors as it found, and as many data buffers on
 * `backend` (which also catches an intermediate a kernel allocated and never handed back).
 * Activates `backend` first, which also creates it.
 */
export async function expectNoLeaks<T>(backend: string, f: () => Promise<T>): Promise<T> {
  await tf.setBackend(backend);
  const host = tf.findBackend(backend);
  if (!host) throw new Error(`no backend '${backend}' to check for leaks`);
  const tensors = tf.memory().numTensors;
  const buffers = host.numDataIds();
  const result = await f();
  expect(tf.memory().numTensors, 'tensors left behind').toBe(tensors);
  expect(host.numDataIds(), `data buffers left on ${backend}`).toBe(buffers);
  return result;
}

/**
 * {@link expectSameAsCpu} for a computation with a forward and a gradient kernel, checked for
 * leaks: how many calls of each this package handled on the kernels backend.
 */
export async function expectKernelsSameAsCpu(
  info: KernelsBackendInfo,
  kernels: { forward: string; gradient: string },
  f: () => tf.Tensor | tf.Tensor[],
  label: string,
): Promise<{ forward: number; gradient: number }> {
  let forward = 0;
  const before = info.replacedCalls.get(kernels.gradient) ?? 0;
  await expectNoLeaks(info.name, async () => {
    forward = await expectSameAsCpu(info, kernels.forward, f, label);
  });
  return { forward, gradient: (info.replacedCalls.get(kernels.gradient) ?? 0) - before };
}

/**
 * The second half of every contract's test: with the gradient kernel excluded, the forward
 * kernel alone, differentiated through core's composite gradient, still equals cpu; how many
 * forward calls this package handled (the gradient kernel must handle none).
 */
export async function expectSameAsCpuWithoutGradientKernel(
  kernels: { forward: string; gradient: string },
  f: () => tf.Tensor | tf.Tensor[],
  label: string,
): Promise<number> {
  const info = await registerKernelsBackend({
    name: `posenc-kernels-no-${kernels.gradient}`,
    exclude: [kernels.gradient],
  });
  const calls = await expectSameAsCpu(info, kernels.forward, f, label);
  expect(
    info.replacedCalls.get(kernels.gradient),
    `${label}: ${kernels.gradient} calls`,
  ).toBeUndefined();
  return calls;
}
