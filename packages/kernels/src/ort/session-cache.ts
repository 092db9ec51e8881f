/**
 * ONNX Runtime sessions for small graphs, built once per op and attributes and reused for every
 * shape (graph inputs are declared without a shape, so ONNX Runtime resolves shapes per run).
 */
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

export class SessionCache {
  private readonly sessions = new Map<string, CompiledGraph>();
  private readonly nativeSessions: NativeSession[] = [];
  private readonly options: NativeSessionOptions;

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
      const session = loadOrtBinding().createSession(encodeModel(graph), this.options);
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

  dispose(): void {
    for (const s of this.nativeSessions) s.dispose();
    this.nativeSessions.length = 0;
    this.sessions.clear();
  }
}
