/**
 * What ONNX Runtime's own profiler saw inside each graph: the time of every node per run. A
 * TF.js profile (`tf.profile`) ends at the kernel boundary, so a fused graph such as the RoPE
 * attention kernel is one opaque time there; this reads the JSON files that sessions started
 * under `SessionCache.startProfiling` wrote (Chrome trace events: a `Session` event
 * `model_run` per run and a `Node` event `<node>_kernel_time` per node and run) and summarises
 * them per graph.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ProfiledSession } from './session-cache.js';

export interface NodeTime {
  /** The node's name in the graph (ONNX Runtime names unnamed nodes `<Op>_<index>`). */
  readonly node: string;
  readonly op: string;
  /** Median over runs of the node's time in one run, in µs. */
  readonly medianUs: number;
}

export interface GraphProfile {
  /** The session cache key of the graph (kernel name and attributes). */
  readonly key: string;
  readonly runs: number;
  /** Median over runs of the whole run as ONNX Runtime timed it, in µs. */
  readonly medianRunUs: number;
  /** In the order the nodes first ran. */
  readonly nodes: readonly NodeTime[];
}

interface TraceEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string };
}

const KERNEL_TIME = '_kernel_time';

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The file ONNX Runtime wrote for a session profiled under `prefix`. */
function profileFile(prefix: string): string {
  const dir = dirname(prefix);
  const start = `${basename(prefix)}_`;
  const files = readdirSync(dir).filter((f) => f.startsWith(start) && f.endsWith('.json'));
  if (files.length !== 1)
    throw new Error(
      `expected one ONNX Runtime profile ${start}*.json in ${dir}, found ${files.length}`,
    );
  return join(dir, files[0]!);
}

/**
 * Which steps of a profile are warm-up: a session's first runs are slower than the rest (ONNX
 * Runtime plans its memory pattern on them, and their intermediates land in fresh pages), so a
 * profile that starts with new sessions runs `warmUpSteps` steps first and leaves them out.
 */
export interface ProfiledSteps {
  readonly warmUpSteps: number;
  readonly profiledSteps: number;
}

const NO_WARM_UP: ProfiledSteps = { warmUpSteps: 0, profiledSteps: 1 };

/**
 * One graph's summary from its profile events, without its warm-up runs (a graph that runs r
 * times a step ran r·warmUpSteps times in the warm-up).
 */
export function summariseProfile(
  key: string,
  events: readonly TraceEvent[],
  steps: ProfiledSteps = NO_WARM_UP,
): GraphProfile {
  const runs: number[] = [];
  const perNode = new Map<string, { op: string; times: number[] }>();
  // A node runs once per run, so its k-th event belongs to run k.
  for (const e of events) {
    if (e.cat === 'Session' && e.name === 'model_run' && typeof e.dur === 'number')
      runs.push(e.dur);
    if (e.cat !== 'Node' || !e.name?.endsWith(KERNEL_TIME) || typeof e.dur !== 'number') continue;
    const node = e.name.slice(0, -KERNEL_TIME.length);
    let entry = perNode.get(node);
    if (!entry) perNode.set(node, (entry = { op: e.args?.op_name ?? '?', times: [] }));
    entry.times.push(e.dur);
  }
  const skipped = Math.round(
    (runs.length * steps.warmUpSteps) / (steps.warmUpSteps + steps.profiledSteps),
  );
  const kept = runs.slice(skipped);
  return {
    key,
    runs: kept.length,
    medianRunUs: kept.length ? median(kept) : 0,
    nodes: [...perNode].map(([node, { op, times }]) => ({
      node,
      op,
      medianUs: median(times.slice(skipped)),
    })),
  };
}

/**
 * The profiles of the sessions `SessionCache.stopProfiling()` returned, graphs that ran after
 * the warm-up only.
 */
export function readNodeProfiles(
  sessions: readonly ProfiledSession[],
  steps: ProfiledSteps = NO_WARM_UP,
): GraphProfile[] {
  return sessions
    .map(({ key, prefix }) => {
      const events = JSON.parse(readFileSync(profileFile(prefix), 'utf8')) as TraceEvent[];
      return summariseProfile(key, events, steps);
    })
    .filter((p) => p.runs > 0);
}
