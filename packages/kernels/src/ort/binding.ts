/**
 * The native ONNX Runtime binding inside `onnxruntime-node`, used directly for synchronous runs.
 *
 * The package's public `InferenceSession.run` is asynchronous (it defers every run with
 * `setImmediate`), but a TF.js kernel must return its output synchronously. The native object
 * underneath (`dist/binding.js` → `bin/napi-v6/<platform>/<arch>/onnxruntime_binding.node`) runs
 * synchronously: `session.run(feeds, fetches, runOptions)` returns the outputs. That object is
 * internal to the package, so we accept exactly one version of it and check its shape on load
 * (`binding.test.ts` fails if either changes); moving the pin means re-reading
 * `onnxruntime-node/dist/binding.d.ts` and `backend.js`.
 *
 * What the native `run` does with its arguments (onnxruntime `js/node/src/tensor_helper.cc`):
 * a feed is any object with `type`, `dims`, `location: 'cpu'` and a typed array `data`; it is
 * wrapped, not copied, so inputs are zero-copy. A non-null fetch is used as the preallocated
 * output buffer, so outputs can be written straight into the TF.js backend's memory.
 */
import { createRequire } from 'node:module';

/** The one `onnxruntime-node` version whose internal binding this package is written against. */
export const PINNED_ORT_VERSION = '1.30.0';

/** What the native binding reads from a tensor it is given (feeds and preallocated fetches). */
export interface NativeTensorArg {
  type: 'float32' | 'int32' | 'int64' | 'bool';
  dims: readonly number[];
  location: 'cpu';
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
}

/** An output as the binding returns it (an onnxruntime-common Tensor). */
export interface NativeTensorResult {
  type: string;
  dims: readonly number[];
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
}

export interface NativeSessionOptions {
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  executionMode?: 'sequential' | 'parallel';
  enableCpuMemArena?: boolean;
  enableMemPattern?: boolean;
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /** Session config entries, nested by the dots of their keys; values are strings. */
  extra?: Record<string, unknown>;
}

export interface NativeValueMetadata {
  name: string;
  isTensor: boolean;
  shape: number[];
  type: number;
}

export interface NativeSession {
  loadModel(
    buffer: ArrayBuffer,
    byteOffset: number,
    byteLength: number,
    options: NativeSessionOptions,
  ): void;
  readonly inputMetadata: NativeValueMetadata[];
  readonly outputMetadata: NativeValueMetadata[];
  run(
    feeds: Record<string, NativeTensorArg>,
    fetches: Record<string, NativeTensorArg | null>,
    options?: Record<string, unknown>,
  ): Record<string, NativeTensorResult>;
  dispose(): void;
}

export interface OrtBinding {
  version: string;
  createSession(model: Uint8Array, options: NativeSessionOptions): NativeSession;
}

interface RawBindingModule {
  binding?: {
    InferenceSession?: new () => NativeSession;
  };
  initOrt?: () => void;
}

const SESSION_METHODS = ['loadModel', 'run', 'dispose'] as const;
const SESSION_ACCESSORS = ['inputMetadata', 'outputMetadata'] as const;

/**
 * Checks the shape of the internal module and returns what is wrong, or undefined when it is
 * the one this package was written against.
 */
export function describeBindingMismatch(mod: unknown): string | undefined {
  const m = mod as RawBindingModule | null;
  if (typeof m?.initOrt !== 'function') return 'dist/binding.js exports no initOrt()';
  const ctor = m.binding?.InferenceSession;
  if (typeof ctor !== 'function') return 'dist/binding.js exports no binding.InferenceSession';
  const proto = ctor.prototype as Record<string, unknown>;
  for (const name of SESSION_METHODS)
    if (typeof proto[name] !== 'function')
      return `binding.InferenceSession has no method ${name}()`;
  for (const name of SESSION_ACCESSORS)
    if (!Object.getOwnPropertyDescriptor(proto, name)?.get)
      return `binding.InferenceSession has no accessor ${name}`;
  return undefined;
}

/** The part of Node's `require` the loader uses (a parameter so tests can give a fake one). */
export type RequireLike = (id: string) => unknown;

/**
 * Loads the native binding through `require`, or throws one line saying why not: not
 * installed, another version, a platform without binaries, or a changed internal API.
 */
export function resolveOrtBinding(require: RequireLike): OrtBinding {
  let version: string;
  try {
    version = (require('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    throw new Error('onnxruntime-node is not installed');
  }
  if (version !== PINNED_ORT_VERSION)
    throw new Error(
      `onnxruntime-node ${version} is installed; @posenc/kernels uses its internal binding and needs exactly ${PINNED_ORT_VERSION}`,
    );
  let mod: RawBindingModule;
  try {
    mod = require('onnxruntime-node/dist/binding.js') as RawBindingModule;
  } catch (e) {
    const first = String(e instanceof Error ? e.message : e).split('\n')[0];
    throw new Error(
      `onnxruntime-node ${version} could not load its native binding on ${process.platform}-${process.arch}: ${first}`,
    );
  }
  const mismatch = describeBindingMismatch(mod);
  if (mismatch)
    throw new Error(`onnxruntime-node ${version}: unexpected internal binding (${mismatch})`);
  mod.initOrt!();
  const Session = mod.binding!.InferenceSession!;
  return {
    version,
    createSession(model, options) {
      const session = new Session();
      // ONNX Runtime parses the bytes during the call and keeps no reference to them.
      session.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, options);
      return session;
    },
  };
}

let loaded: OrtBinding | undefined;

/** The binding of the installed onnxruntime-node, loaded once per process. */
export function loadOrtBinding(): OrtBinding {
  loaded ??= resolveOrtBinding(createRequire(import.meta.url));
  return loaded;
}
