/**
 * The `posenc-kernels` TF.js backend: a host backend (tfjs-backend-wasm by default, or
 * tfjs-backend-cpu) with every one of its kernels, where the hot ones run on ONNX Runtime.
 *
 * The backend instance is a plain host instance, so tensors, memory and the kernels we do not
 * replace behave exactly as on the host. A replaced kernel returns `undefined` for inputs it
 * does not handle (dtypes, tiny tensors) and the host's own kernel runs instead.
 */
import { availableParallelism } from 'node:os';
import { tf } from '@posenc/core';
import { installBroadcastGradients } from './gradients.js';
import { cpuMemory, wasmMemory, type HostMemory, type HostName } from './host/host-memory.js';
import { ACCELERATED_KERNELS, DEFAULT_KERNELS } from './kernels/index.js';
import type { AcceleratedKernel, KernelArgs, KernelContext } from './kernels/kernel-context.js';
import { loadOrtBinding } from './ort/binding.js';
import { SessionCache } from './ort/session-cache.js';

export const BACKEND_NAME = 'posenc-kernels';

export interface KernelsBackendOptions {
  /** TF.js backend name to register; default `posenc-kernels`. */
  name?: string;
  /** Backend that runs the ops not replaced; default `POSENC_KERNELS_HOST`, else wasm (see README). */
  host?: HostName;
  /** ONNX Runtime intra-op threads; default `POSENC_KERNELS_THREADS`, else the number of cores. */
  threads?: number;
  /** Let idle ONNX Runtime threads spin between ops; default `POSENC_KERNELS_SPIN=1`, else off. */
  spinning?: boolean;
  /** Elementwise/reduction/softmax kernels go to ONNX Runtime from this many elements; default 16384. */
  minElements?: number;
  /**
   * Which kernels go to ONNX Runtime: `default` (those measured faster than the host), or `all`
   * that this package implements (for measurements and tests).
   */
  kernels?: 'default' | 'all';
  /** Kernel names to leave on the host (or to core's composite path); default `POSENC_KERNELS_EXCLUDE`, comma-separated. */
  exclude?: readonly string[];
}

export interface KernelsBackendInfo {
  name: string;
  host: HostName;
  threads: number;
  spinning: boolean;
  minElements: number;
  ortVersion: string;
  accelerated: string[];
  sessions: SessionCache;
  /**
   * How many calls of each replaced kernel this package handled (on ONNX Runtime or by a fast
   * path of its own); the other calls went to the host's kernel.
   */
  replacedCalls: Map<string, number>;
}

const DEFAULT_MIN_ELEMENTS = 16384;
const registered = new Map<string, KernelsBackendInfo>();

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name}=${JSON.stringify(raw)} must be a positive integer`);
  return value;
}

function envBool(name: string): boolean | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  if (raw === '1' || raw === 'true') return true;
  if (raw === '0' || raw === 'false') return false;
  throw new Error(`${name}=${JSON.stringify(raw)} must be 1, 0, true or false`);
}

function envList(name: string): string[] | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  return raw.split(',').map((s) => s.trim());
}

function envHost(): HostName | undefined {
  const raw = process.env['POSENC_KERNELS_HOST'];
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'wasm' || raw === 'cpu') return raw;
  throw new Error(
    `POSENC_KERNELS_HOST=${JSON.stringify(raw)} is not a host backend; allowed: wasm, cpu`,
  );
}

/** Runs a one-node graph so that a broken ONNX Runtime fails here, with a reason, not in a kernel. */
function smokeTest(sessions: SessionCache): void {
  const x = new Float32Array([1, 2, 3]);
  const y = new Float32Array(3);
  sessions
    .get('smoke', () => ({
      nodes: [{ op: 'Add', inputs: ['x', 'x'], outputs: ['y'] }],
      inputs: [{ name: 'x', type: 'float32' }],
      outputs: [{ name: 'y', type: 'float32' }],
    }))
    .run([{ type: 'float32', dims: [3], data: x }], [{ type: 'float32', dims: [3], data: y }]);
  if (y[0] !== 2 || y[1] !== 4 || y[2] !== 6)
    throw new Error(`ONNX Runtime smoke test computed [${y}] for 2·[1,2,3]`);
}

async function hostFactory(
  host: HostName,
): Promise<() => tf.KernelBackend | Promise<tf.KernelBackend>> {
  if (host === 'wasm') {
    try {
      // A specifier in a variable keeps tsc from requiring the optional package's types here.
      const wasmPackage = '@tensorflow/tfjs-backend-wasm';
      await import(wasmPackage);
    } catch {
      throw new Error('host wasm needs @tensorflow/tfjs-backend-wasm@4.22.0 (not installed)');
    }
  }
  const factory = tf.findBackendFactory(host);
  if (!factory) throw new Error(`TF.js has no '${host}' backend registered`);
  return factory as () => tf.KernelBackend | Promise<tf.KernelBackend>;
}

/**
 * Registers the backend (once per name) and returns what was registered. Throws one line when
 * ONNX Runtime or the host cannot be used here.
 */
export async function registerKernelsBackend(
  options: KernelsBackendOptions = {},
): Promise<KernelsBackendInfo> {
  const name = options.name ?? BACKEND_NAME;
  const existing = registered.get(name);
  if (existing) return existing;
  if (tf.findBackendFactory(name))
    throw new Error(`a TF.js backend named '${name}' is already registered`);

  const binding = loadOrtBinding();
  const host = options.host ?? envHost() ?? 'wasm';
  if (host !== 'wasm' && host !== 'cpu')
    throw new Error(`host = ${JSON.stringify(host)} is not a host backend; allowed: wasm, cpu`);
  const threads = options.threads ?? envInt('POSENC_KERNELS_THREADS') ?? availableParallelism();
  const spinning = options.spinning ?? envBool('POSENC_KERNELS_SPIN') ?? false;
  const minElements = options.minElements ?? DEFAULT_MIN_ELEMENTS;
  if (!Number.isInteger(minElements) || minElements < 0)
    throw new Error(`minElements = ${minElements} must be a non-negative integer`);
  const sessions = new SessionCache({ threads, spinning });
  smokeTest(sessions);

  const factory = await hostFactory(host);
  const memoryOf = host === 'wasm' ? wasmMemory : cpuMemory;
  const memories = new WeakMap<object, HostMemory>();
  const hostKernels = new Map(
    tf.getKernelsForBackend(host).map((k) => [k.kernelName, k.kernelFunc]),
  );
  const ctx: KernelContext = {
    sessions,
    minElements,
    runHost(kernelName, args) {
      const kernel = hostKernels.get(kernelName);
      if (!kernel) throw new Error(`the ${host} host has no ${kernelName} kernel`);
      return kernel(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    },
    release(backend, info) {
      (backend as tf.KernelBackend).disposeData(info.dataId);
    },
    memoryOf(backend) {
      let memory = memories.get(backend as object);
      if (!memory) memories.set(backend as object, (memory = memoryOf(backend)));
      return memory;
    },
  };

  const overrides = new Map<string, AcceleratedKernel>();
  const kernels = options.kernels ?? 'default';
  if (kernels !== 'default' && kernels !== 'all')
    throw new Error(`kernels = ${JSON.stringify(kernels)}; allowed: default, all`);
  const exclude = options.exclude ?? envList('POSENC_KERNELS_EXCLUDE') ?? [];
  const known = new Set(ACCELERATED_KERNELS.map((k) => k.kernelName));
  for (const name of exclude)
    if (!known.has(name))
      throw new Error(
        `exclude: ${JSON.stringify(name)} is not a kernel of this package; allowed: ${[...known].sort().join(', ')}`,
      );
  for (const k of kernels === 'all' ? ACCELERATED_KERNELS : DEFAULT_KERNELS)
    if (!exclude.includes(k.kernelName)) overrides.set(k.kernelName, k);
  // Identity shares data instead of copying; only wasm's copies, cpu's already shares.
  if (host !== 'wasm') overrides.delete('Identity');
  const accelerated: string[] = [];
  const replacedCalls = new Map<string, number>();
  const counted = (kernelName: string, out: ReturnType<AcceleratedKernel['run']>) => {
    if (out) replacedCalls.set(kernelName, (replacedCalls.get(kernelName) ?? 0) + 1);
    return out;
  };
  for (const config of tf.getKernelsForBackend(host)) {
    const override = overrides.get(config.kernelName);
    if (!override) {
      tf.registerKernel({ ...config, backendName: name });
      continue;
    }
    accelerated.push(config.kernelName);
    const hostKernel = config.kernelFunc;
    tf.registerKernel({
      ...config,
      backendName: name,
      kernelFunc: (args) =>
        counted(config.kernelName, override.run(args as unknown as KernelArgs, ctx)) ??
        hostKernel(args),
    });
  }
  // Kernels the host lacks: inputs ours do not take have nowhere else to go, so they throw.
  for (const [kernelName, override] of overrides) {
    if (tf.getKernel(kernelName, name)) continue;
    accelerated.push(kernelName);
    tf.registerKernel({
      kernelName,
      backendName: name,
      kernelFunc: (args) => {
        const out = counted(kernelName, override.run(args as unknown as KernelArgs, ctx));
        if (!out)
          throw new Error(
            `${kernelName} on ${name}: these inputs are not supported and the ${host} host has no such kernel`,
          );
        return out;
      },
    });
  }
  installBroadcastGradients(name);
  // Priority 0: never chosen by TF.js on its own, only by name (core's initEngine or setBackend).
  tf.registerBackend(name, factory, 0);
  const info: KernelsBackendInfo = {
    name,
    host,
    threads,
    spinning,
    minElements,
    ortVersion: binding.version,
    accelerated: accelerated.sort(),
    sessions,
    replacedCalls,
  };
  registered.set(name, info);
  return info;
}

/** What `registerKernelsBackend` registered under `name`, if anything. */
export function kernelsBackendInfo(name = BACKEND_NAME): KernelsBackendInfo | undefined {
  return registered.get(name);
}
