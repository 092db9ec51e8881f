/**
 * ONNX Runtime's C API, called synchronously through koffi (an FFI for Node whose binaries ship
 * inside its npm packages, so nothing is built or downloaded at install).
 *
 * Why not `onnxruntime-node`'s own JS API: its `InferenceSession.run` is asynchronous, and its
 * native `run` underneath, although synchronous, copies every output into a new ArrayBuffer even
 * when the caller preallocated it. For a [8,8,256,256] attention product that is a 16 MB copy
 * into fresh pages (about 4 ms of page faults and memcpy on this machine) and 16 MB of garbage
 * per call. Through the C API an output OrtValue wraps the TF.js heap, ONNX Runtime writes into
 * it in place, and nothing is copied either way.
 *
 * The library is the `libonnxruntime` shipped in `onnxruntime-node` (pinned to one version, which
 * `binding.test.ts` checks). The C API is a table of function pointers that ONNX Runtime only
 * ever appends to; the indices below are those of `onnxruntime_c_api.h`, and we ask for API
 * version {@link ORT_API_VERSION}, which every later library also serves.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The one `onnxruntime-node` version whose library this package is tested against. */
export const PINNED_ORT_VERSION = '1.30.0';
/** The C API version requested from the library (ONNX Runtime 1.20's table, a prefix of later ones). */
export const ORT_API_VERSION = 20;

export type OrtElementType = 'float32' | 'int32' | 'int64' | 'bool';

/** A tensor handed to a run: its data is used in place, for inputs and outputs alike. */
export interface NativeTensorArg {
  type: OrtElementType;
  dims: readonly number[];
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
}

export interface NativeSessionOptions {
  /** Intra-op threads of the session's own pool (MLAS GEMMs and parallel loops are split across them). */
  intraOpNumThreads: number;
  /** Let idle pool threads spin between ops (faster starts, but a core is burnt meanwhile). */
  spinning: boolean;
  /**
   * Record ONNX Runtime's own profile (every node's time in every run) into
   * `<profilePrefix>_<date>.json`, which the library writes when the session is disposed.
   */
  profilePrefix?: string;
}

export interface NativeSession {
  /** Runs the graph on `inputs`, writing `outputs` in place; both are given in the graph's order. */
  run(
    inputNames: readonly string[],
    inputs: readonly NativeTensorArg[],
    outputNames: readonly string[],
    outputs: readonly NativeTensorArg[],
  ): void;
  dispose(): void;
}

export interface OrtBinding {
  /** The library's own version string. */
  version: string;
  createSession(model: Uint8Array, options: NativeSessionOptions): NativeSession;
}

/** Indices in `struct OrtApi` (onnxruntime_c_api.h). */
const API_INDEX = {
  GetErrorMessage: 2,
  CreateEnv: 3,
  CreateSessionFromArray: 8,
  Run: 9,
  CreateSessionOptions: 10,
  SetSessionExecutionMode: 13,
  EnableProfiling: 14,
  SetSessionLogSeverityLevel: 22,
  SetSessionGraphOptimizationLevel: 23,
  SetIntraOpNumThreads: 24,
  SetInterOpNumThreads: 25,
  CreateTensorWithDataAsOrtValue: 49,
  CreateCpuMemoryInfo: 69,
  ReleaseStatus: 93,
  ReleaseMemoryInfo: 94,
  ReleaseSession: 95,
  ReleaseValue: 96,
  ReleaseSessionOptions: 100,
  AddSessionConfigEntry: 130,
} as const;

/** ONNXTensorElementDataType codes. */
const ELEMENT_TYPE: Record<OrtElementType, number> = { float32: 1, int32: 6, int64: 7, bool: 9 };
const ORT_LOGGING_LEVEL_FATAL = 4;
const ORT_SEQUENTIAL = 0;
const ORT_ENABLE_ALL = 99;
const ORT_DEVICE_ALLOCATOR = 0;
const ORT_MEM_TYPE_DEFAULT = 0;

/** The part of koffi used here (typed loosely: koffi's own types are `any` at the call boundary). */
interface Koffi {
  load(path: string): { func(definition: string): (...args: unknown[]) => unknown };
  decode(pointer: unknown, type: unknown): unknown;
  proto(definition: string): unknown;
  array(type: string, length: number): unknown;
}

/** A pointer returned by the C API (koffi represents pointers as bigints); null when unset. */
type Pointer = bigint | null;
type Status = Pointer;

/** The directory of onnxruntime-node's native files for this platform, and the library in it. */
export function findOrtLibrary(require: RequireLike): { version: string; library: string } {
  let packageJson: string;
  try {
    packageJson = require.resolve('onnxruntime-node/package.json');
  } catch {
    throw new Error('onnxruntime-node is not installed');
  }
  const { version } = require('onnxruntime-node/package.json') as { version: string };
  if (version !== PINNED_ORT_VERSION)
    throw new Error(
      `onnxruntime-node ${version} is installed; @posenc/kernels is tested with exactly ${PINNED_ORT_VERSION}`,
    );
  const dir = join(dirname(packageJson), 'bin', 'napi-v6', process.platform, process.arch);
  const names = existsSync(dir) ? readdirSync(dir) : [];
  const library = names.find((n) => /^(lib)?onnxruntime(\.so\.\d+|\.\d+\.dylib|\.dll)$/.test(n));
  if (!library)
    throw new Error(
      `onnxruntime-node ${version} has no ONNX Runtime library for ${process.platform}-${process.arch}`,
    );
  return { version, library: join(dir, library) };
}

/** `require` and `require.resolve`, a parameter so tests can give a fake one. */
export interface RequireLike {
  (id: string): unknown;
  resolve(id: string): string;
}

/**
 * Loads koffi and ONNX Runtime's library and returns the binding, or throws one line saying why
 * not: not installed, another version, a platform without binaries, a library without the API.
 */
export function resolveOrtBinding(require: RequireLike): OrtBinding {
  const { version: packageVersion, library } = findOrtLibrary(require);
  let koffi: Koffi;
  try {
    koffi = require('koffi') as Koffi;
  } catch (e) {
    throw new Error(`koffi could not load on ${process.platform}-${process.arch}: ${firstLine(e)}`);
  }
  let lib: ReturnType<Koffi['load']>;
  try {
    lib = koffi.load(library);
  } catch (e) {
    throw new Error(
      `onnxruntime-node ${packageVersion}: ${library} could not load: ${firstLine(e)}`,
    );
  }
  // koffi unloads a library (dlclose) once nothing refers to its handle or to a function made
  // from it. Everything below is called through pointers decoded from the API table, which koffi
  // does not count as references: without this, the first garbage collection after loading unmaps
  // ONNX Runtime and the next call jumps into freed memory (a segfault, at a time set by the GC).
  keptLoaded.push(lib);
  const getApiBase = lib.func('void *OrtGetApiBase()');
  const base = koffi.decode(getApiBase(), koffi.array('void *', 2)) as [bigint, bigint];
  const version = (
    koffi.decode(base[1], koffi.proto(`const char *posenc_ort_${protoCount++}()`)) as () => string
  )();
  if (version !== PINNED_ORT_VERSION)
    throw new Error(
      `onnxruntime-node ${packageVersion} ships ONNX Runtime ${version}; expected ${PINNED_ORT_VERSION}`,
    );
  const api = (
    koffi.decode(base[0], koffi.proto(`void *posenc_ort_${protoCount++}(uint32_t version)`)) as (
      v: number,
    ) => Pointer
  )(ORT_API_VERSION);
  if (!api)
    throw new Error(`ONNX Runtime ${version} does not serve C API version ${ORT_API_VERSION}`);
  const table = koffi.decode(
    api,
    koffi.array('void *', API_INDEX.AddSessionConfigEntry + 1),
  ) as bigint[];
  // Each prototype gets a unique name: koffi registers named types globally, for the process.
  const fn = <F>(index: number, result: string, params: string): F =>
    koffi.decode(table[index], koffi.proto(`${result} posenc_ort_${protoCount++}(${params})`)) as F;
  type StatusFn<A extends unknown[]> = (...args: A) => Status;
  /** The `OrtStatus *Set…(OrtSessionOptions *options, int value)` setters. */
  const setOption = (index: number) =>
    fn<StatusFn<[bigint, number]>>(index, 'void *', 'void *options, int value');
  const c = {
    GetErrorMessage: fn<(s: bigint) => string>(
      API_INDEX.GetErrorMessage,
      'const char *',
      'void *status',
    ),
    ReleaseStatus: fn<(s: bigint) => void>(API_INDEX.ReleaseStatus, 'void', 'void *status'),
    CreateEnv: fn<StatusFn<[number, string, Pointer[]]>>(
      API_INDEX.CreateEnv,
      'void *',
      'int level, const char *logid, _Out_ void **out',
    ),
    CreateSessionOptions: fn<StatusFn<[Pointer[]]>>(
      API_INDEX.CreateSessionOptions,
      'void *',
      '_Out_ void **out',
    ),
    SetSessionExecutionMode: setOption(API_INDEX.SetSessionExecutionMode),
    // ORTCHAR_T is char except on Windows (wchar_t there), where createSession refuses a prefix.
    EnableProfiling: fn<StatusFn<[bigint, string]>>(
      API_INDEX.EnableProfiling,
      'void *',
      'void *options, const char *prefix',
    ),
    SetSessionLogSeverityLevel: setOption(API_INDEX.SetSessionLogSeverityLevel),
    SetSessionGraphOptimizationLevel: setOption(API_INDEX.SetSessionGraphOptimizationLevel),
    SetIntraOpNumThreads: setOption(API_INDEX.SetIntraOpNumThreads),
    SetInterOpNumThreads: setOption(API_INDEX.SetInterOpNumThreads),
    AddSessionConfigEntry: fn<StatusFn<[bigint, string, string]>>(
      API_INDEX.AddSessionConfigEntry,
      'void *',
      'void *options, const char *key, const char *value',
    ),
    ReleaseSessionOptions: fn<(o: bigint) => void>(
      API_INDEX.ReleaseSessionOptions,
      'void',
      'void *options',
    ),
    CreateSessionFromArray: fn<StatusFn<[bigint, Uint8Array, number, bigint, Pointer[]]>>(
      API_INDEX.CreateSessionFromArray,
      'void *',
      'void *env, const void *model, size_t length, void *options, _Out_ void **out',
    ),
    ReleaseSession: fn<(s: bigint) => void>(API_INDEX.ReleaseSession, 'void', 'void *session'),
    CreateCpuMemoryInfo: fn<StatusFn<[number, number, Pointer[]]>>(
      API_INDEX.CreateCpuMemoryInfo,
      'void *',
      'int allocator, int memType, _Out_ void **out',
    ),
    // The data pointer is taken as `void *`: koffi passes a typed array's own memory (no copy).
    CreateTensorWithDataAsOrtValue: fn<
      StatusFn<[bigint, NativeTensorArg['data'], number, BigInt64Array, number, number, Pointer[]]>
    >(
      API_INDEX.CreateTensorWithDataAsOrtValue,
      'void *',
      'void *info, void *data, size_t length, const int64_t *shape, size_t rank, int type, _Out_ void **out',
    ),
    ReleaseValue: fn<(v: bigint) => void>(API_INDEX.ReleaseValue, 'void', 'void *value'),
    Run: fn<
      StatusFn<
        [bigint, null, readonly string[], bigint[], number, readonly string[], number, bigint[]]
      >
    >(
      API_INDEX.Run,
      'void *',
      'void *session, void *runOptions, const char **inputNames, void **inputs, size_t inputCount, const char **outputNames, size_t outputCount, void **outputs',
    ),
  };

  const check = (status: Status, what: string): void => {
    if (!status) return;
    const message = c.GetErrorMessage(status);
    c.ReleaseStatus(status);
    throw new Error(`${what}: ${message}`);
  };
  const out: Pointer[] = [null];
  /** The pointer a call just wrote to `out`, once its status says it succeeded. */
  const take = (status: Status, what: string): bigint => {
    const value = out[0];
    out[0] = null;
    check(status, what);
    if (!value) throw new Error(`${what} returned no object`);
    return value;
  };

  // One environment per process; ONNX Runtime keeps it for the process's lifetime.
  const env = take(c.CreateEnv(ORT_LOGGING_LEVEL_FATAL, 'posenc-kernels', out), 'CreateEnv');
  const cpu = take(
    c.CreateCpuMemoryInfo(ORT_DEVICE_ALLOCATOR, ORT_MEM_TYPE_DEFAULT, out),
    'CreateCpuMemoryInfo',
  );

  const tensor = (arg: NativeTensorArg): bigint => {
    const type = ELEMENT_TYPE[arg.type];
    if (type === undefined)
      throw new Error(`tensor type ${JSON.stringify(arg.type)} is not supported`);
    const shape = BigInt64Array.from(arg.dims, (d) => BigInt(d));
    return take(
      c.CreateTensorWithDataAsOrtValue(
        cpu,
        arg.data,
        arg.data.byteLength,
        shape,
        shape.length,
        type,
        out,
      ),
      'CreateTensorWithDataAsOrtValue',
    );
  };

  return {
    version,
    createSession(model, options) {
      const opts = take(c.CreateSessionOptions(out), 'CreateSessionOptions');
      let session: bigint;
      try {
        check(c.SetSessionExecutionMode(opts, ORT_SEQUENTIAL), 'SetSessionExecutionMode');
        if (options.profilePrefix !== undefined) {
          if (process.platform === 'win32')
            throw new Error(
              'profilePrefix: ONNX Runtime profiles are supported on Linux and macOS only',
            );
          check(c.EnableProfiling(opts, options.profilePrefix), 'EnableProfiling');
        }
        check(
          c.SetSessionGraphOptimizationLevel(opts, ORT_ENABLE_ALL),
          'SetSessionGraphOptimizationLevel',
        );
        // Failures surface as exceptions; ONNX Runtime's own log line would repeat them.
        check(
          c.SetSessionLogSeverityLevel(opts, ORT_LOGGING_LEVEL_FATAL),
          'SetSessionLogSeverityLevel',
        );
        check(c.SetIntraOpNumThreads(opts, options.intraOpNumThreads), 'SetIntraOpNumThreads');
        check(c.SetInterOpNumThreads(opts, 1), 'SetInterOpNumThreads');
        check(
          c.AddSessionConfigEntry(
            opts,
            'session.intra_op.allow_spinning',
            options.spinning ? '1' : '0',
          ),
          'AddSessionConfigEntry',
        );
        session = take(
          c.CreateSessionFromArray(env, model, model.byteLength, opts, out),
          'CreateSessionFromArray',
        );
      } finally {
        c.ReleaseSessionOptions(opts);
      }
      let disposed = false;
      return {
        run(inputNames, inputs, outputNames, outputs) {
          if (disposed) throw new Error('the ONNX Runtime session was disposed');
          const values: bigint[] = [];
          try {
            for (const t of inputs) values.push(tensor(t));
            for (const t of outputs) values.push(tensor(t));
            check(
              c.Run(
                session,
                null,
                inputNames,
                values.slice(0, inputs.length),
                inputs.length,
                outputNames,
                outputs.length,
                values.slice(inputs.length),
              ),
              'Run',
            );
          } finally {
            for (const v of values) c.ReleaseValue(v);
          }
        },
        dispose() {
          if (disposed) return;
          disposed = true;
          c.ReleaseSession(session);
        },
      };
    },
  };
}

let protoCount = 0;
/** Every library handle this process loaded: never released, so never unloaded. */
const keptLoaded: unknown[] = [];

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0]!;
}

let loaded: OrtBinding | undefined;

/** The binding of the installed onnxruntime-node, loaded once per process. */
export function loadOrtBinding(): OrtBinding {
  loaded ??= resolveOrtBinding(createRequire(import.meta.url));
  return loaded;
}
