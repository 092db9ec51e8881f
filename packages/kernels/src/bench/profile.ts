/**
 * Per-kernel time of a workload on one engine, to decide which ops to accelerate:
 *
 *   npm run profile -w @posenc/kernels -- --engine wasm --workload attention
 *
 * Uses `tf.profile`, whose kernel times on wasm/cpu/ONNX-backed kernels are wall times of
 * synchronous kernels, so they add up to the step (less the JS between kernels).
 *
 * `--nodes` (kernels engine only) looks inside the kernels instead: ONNX Runtime's own profile
 * of every graph the step runs, node by node (median µs per run), e.g. what the rotations inside
 * the fused RoPE attention cost:
 *
 *   npm run profile -w @posenc/kernels -- --workload rotary_attention --nodes
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseEngineName, selectEngine, tf } from '@posenc/core';
import { kernelsBackendInfo } from '../backend.js';
import { readNodeProfiles, type GraphProfile } from '../ort/node-profile.js';
import { ISSUE_SIZES, WORKLOADS } from './workloads.js';
import '../index.js';

/**
 * Steps run before the profiled ones, and left out. One is not enough: a session's first runs
 * are slower than the rest (ONNX Runtime plans its memory pattern on them, and their
 * intermediates land in fresh pages, which cost about 10 µs each on this virtual machine). On
 * 2026-12-05 the attention workload's `[8,8,256,256]` node outputs took 24–29 ms each in the
 * first two runs of its graphs against 0.6–1.8 ms later, a tenfold slower graph.
 */
const WARM_UP_STEPS = 5;

interface KernelTotal {
  name: string;
  ms: number;
  calls: number;
}

function findWorkload(workloadId: string) {
  const workload = WORKLOADS.find((w) => w.id === workloadId);
  if (!workload)
    throw new Error(
      `--workload ${JSON.stringify(workloadId)} is unknown; allowed: ${WORKLOADS.map((w) => w.id).join(', ')}`,
    );
  return workload;
}

/**
 * ONNX Runtime's node times in every graph `repeats` steps of the workload ran on the kernels
 * engine (after warm-up steps, profiled as well since profiling starts new sessions, and left
 * out), with how many runs each graph had a step.
 */
export async function profileNodes(
  workloadId: string,
  repeats: number,
): Promise<(GraphProfile & { runsPerStep: number })[]> {
  const info = kernelsBackendInfo(tf.getBackend());
  if (!info)
    throw new Error(
      `--nodes profiles ONNX Runtime's graphs: the engine must be kernels, not backend ${tf.getBackend()}`,
    );
  const run = await findWorkload(workloadId).setup(ISSUE_SIZES);
  const dir = mkdtempSync(join(tmpdir(), 'posenc-ort-profile-'));
  try {
    info.sessions.startProfiling(dir);
    for (let w = 0; w < WARM_UP_STEPS; w++) await run.step();
    for (let r = 0; r < repeats; r++) await run.step();
    const steps = { warmUpSteps: WARM_UP_STEPS, profiledSteps: repeats };
    return readNodeProfiles(info.sessions.stopProfiling(), steps).map((p) => ({
      ...p,
      runsPerStep: p.runs / repeats,
    }));
  } finally {
    run.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function profileWorkload(
  workloadId: string,
  repeats: number,
): Promise<{ totalMs: number; kernels: KernelTotal[] }> {
  const workload = findWorkload(workloadId);
  const run = await workload.setup(ISSUE_SIZES);
  try {
    for (let w = 0; w < WARM_UP_STEPS; w++) await run.step(); // sessions, caches, memory
    const totals = new Map<string, KernelTotal>();
    let totalMs = 0;
    for (let r = 0; r < repeats; r++) {
      const start = performance.now();
      const info = await tf.profile(async () => {
        await run.step();
        return [];
      });
      totalMs += performance.now() - start;
      for (const k of info.kernels) {
        // customGrad ops (fused matmul, log-softmax, core's attention) are listed as well as
        // the kernels they run; counting both would count their time twice.
        if (!tf.getKernel(k.name, tf.getBackend())) continue;
        const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
        const key = `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join('')}`;
        const t = totals.get(key) ?? { name: key, ms: 0, calls: 0 };
        t.ms += ms / repeats;
        t.calls += 1 / repeats;
        totals.set(key, t);
      }
    }
    return {
      totalMs: totalMs / repeats,
      kernels: [...totals.values()].sort((a, b) => b.ms - a.ms),
    };
  } finally {
    run.dispose();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      engine: { type: 'string', default: 'kernels' },
      workload: { type: 'string', default: 'attention' },
      repeats: { type: 'string', default: '2' },
      top: { type: 'string', default: '30' },
      byOp: { type: 'boolean', default: false },
      nodes: { type: 'boolean', default: false },
    },
  });
  await selectEngine({ engine: parseEngineName(values.engine!, '--engine') });
  const repeats = Number(values.repeats);
  if (!Number.isInteger(repeats) || repeats < 1)
    throw new Error(`--repeats ${values.repeats} is not allowed; expected an integer ≥ 1`);
  if (values.nodes) {
    const graphs = await profileNodes(values.workload!, repeats);
    // Heaviest first: a graph's time per step is its run time times its runs per step.
    graphs.sort((a, b) => b.medianRunUs * b.runsPerStep - a.medianRunUs * a.runsPerStep);
    console.log(
      `${values.workload}: ONNX Runtime's node times, median µs per run over ${repeats} step(s)`,
    );
    for (const g of graphs.slice(0, Number(values.top))) {
      console.log(
        `${(g.medianRunUs / 1000).toFixed(3).padStart(9)} ms ${String(g.runsPerStep).padStart(4)}×  ${g.key}`,
      );
      for (const n of g.nodes)
        console.log(`${n.medianUs.toFixed(0).padStart(14)} µs    ${n.op} (${n.node})`);
    }
    return;
  }
  const { totalMs, kernels } = await profileWorkload(values.workload!, repeats);
  let rows = kernels;
  if (values.byOp) {
    const byOp = new Map<string, KernelTotal>();
    for (const k of kernels) {
      const op = k.name.split(' ')[0]!;
      const t = byOp.get(op) ?? { name: op, ms: 0, calls: 0 };
      t.ms += k.ms;
      t.calls += k.calls;
      byOp.set(op, t);
    }
    rows = [...byOp.values()].sort((a, b) => b.ms - a.ms);
  }
  const kernelMs = kernels.reduce((a, k) => a + k.ms, 0);
  console.log(
    `${values.workload} on ${values.engine}: step ${totalMs.toFixed(1)} ms, kernels ${kernelMs.toFixed(1)} ms`,
  );
  for (const k of rows.slice(0, Number(values.top)))
    console.log(
      `${k.ms.toFixed(2).padStart(9)} ms ${String(Math.round(k.calls)).padStart(4)}×  ${k.name}`,
    );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
