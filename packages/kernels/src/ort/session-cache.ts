/**
 * ONNX Runtime sessions for small graphs, built once per op and attributes and reused for every
 * shape (graph inputs are declared without a shape, so ONNX Runtime resolves shapes per run).
 */
import { join } from 'node:path';
import { encodeModel, type OnnxGraph } from '../onnx/model.js';
import {
  loadOrtBinding,
  type NativeSession,
  type NativeSessionOptions,
  type NativeTensorArg,
} from './binding.js';

export interface RuntimeOptions {
  /** ONNX Runtime intra-op threads (MLAS GEMMs and elementwise loops are split across them). */
  threads: number;
  /**
   * Whether idle pool threads spin waiting for the next op. Spinning shortens the start of each
   * parallel op but burns a core between ops, which hurts on a shared or busy machine.
   */
  spinning: boolean;
}

/** A graph and the names under which its inputs and outputs are fed. */
export interface CompiledGraph {
  readonly key: string;
  run(inputs: readonly NativeTensorArg[], outputs: readonly NativeTensorArg[]): void;
}

/** A profiled session: its cache key and the prefix of the file ONNX Runtime writes. */
export interface ProfiledSession {
  readonly key: string;
  readonly prefix: string;
}

export class SessionCache {
  private readonly sessions = new Map<string, CompiledGraph>();
  private readonly nativeSessions: NativeSession[] = [];
  private readonly options: NativeSessionOptions;
  private profiling: { dir: string; sessions: ProfiledSession[] } | undefined;

  constructor(readonly runtime: RuntimeOptions) {
    if (!Number.isInteger(runtime.threads) || runtime.threads < 1)
      throw new Error(`threads = ${runtime.threads} must be a positive integer`);
    this.options = { intraOpNumThreads: runtime.threads, spinning: runtime.spinning };
  }

  get size(): number {
    return this.sessions.size;
  }

  /**
   * The session for `key`, building it from `build()` the first time. The graph's inputs and
   * outputs are fed positionally, in the order the graph declares them.
   */
  get(key: string, build: () => OnnxGraph): CompiledGraph {
    let compiled = this.sessions.get(key);
    if (!compiled) {
      const graph = build();
      let options = this.options;
      if (this.profiling) {
        const prefix = join(this.profiling.dir, `session-${this.profiling.sessions.length}`);
        this.profiling.sessions.push({ key, prefix });
        options = { ...options, profilePrefix: prefix };
      }
      const session = loadOrtBinding().createSession(encodeModel(graph), options);
      this.nativeSessions.push(session);
      const inputNames = graph.inputs.map((v) => v.name);
      const outputNames = graph.outputs.map((v) => v.name);
      compiled = {
        key,
        run(inputs, outputs) {
          if (inputs.length !== inputNames.length || outputs.length !== outputNames.length)
            throw new Error(
              `${key}: ${inputs.length} inputs and ${outputs.length} outputs given, graph has ${inputNames.length} and ${outputNames.length}`,
            );
          session.run(inputNames, inputs, outputNames, outputs);
        },
      };
      this.sessions.set(key, compiled);
    }
    return compiled;
  }

  /**
   * Profiles every run from now on: the cached sessions are dropped, and each one built after
   * this records ONNX Runtime's node timings into a file under `dir` (see `node-profile.ts`).
   */
  startProfiling(dir: string): void {
    if (this.profiling) throw new Error(`already profiling into ${this.profiling.dir}`);
    this.dispose();
    this.profiling = { dir, sessions: [] };
  }

  /**
   * Ends profiling: drops the profiled sessions, which makes ONNX Runtime write their files, and
   * returns which file prefix belongs to which graph. Later sessions are built unprofiled.
   */
  stopProfiling(): ProfiledSession[] {
    const profiling = this.profiling;
    if (!profiling) throw new Error('not profiling: call startProfiling(dir) first');
    this.dispose();
    this.profiling = undefined;
    return profiling.sessions;
  }

  dispose(): void {
    for (const s of this.nativeSessions) s.dispose();
    this.nativeSessions.length = 0;
    this.sessions.clear();
  }
}
