/**
 * Before/after of an engine setting on one workload, measured in one process so machine load
 * hits both alike:
 *
 *   npm run ab -w @posenc/kernels -- --workload harness_lm_step --without PosencAttention,PosencAttentionGrad
 *   npm run ab -w @posenc/kernels -- --workload attention --threads 1
 *
 * Registers the kernels engine twice, with its defaults (A) and with the given changes (B:
 * `--without` kernels, where core takes its composite path or the host's kernel runs, or
 * another `--threads` count), builds the workload on each, and
 * alternates steps A, B, B, A, … Prints both medians and the median of the per-pair ratios B/A,
 * which cancels most of the load that varies between pairs.
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { tf } from '@posenc/core';
import { registerKernelsBackend, type KernelsBackendOptions } from '../backend.js';
import { summarize } from './main.js';
import { ISSUE_SIZES, WORKLOADS, type WorkloadRun } from './workloads.js';

async function timed(backend: string, run: WorkloadRun): Promise<number> {
  await tf.setBackend(backend);
  const start = performance.now();
  await run.step();
  return performance.now() - start;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workload: { type: 'string', default: 'harness_lm_step' },
      without: { type: 'string' },
      threads: { type: 'string' },
      pairs: { type: 'string', default: '15' },
    },
  });
  const workload = WORKLOADS.find((w) => w.id === values.workload);
  if (!workload)
    throw new Error(
      `--workload ${JSON.stringify(values.workload)} is unknown; allowed: ${WORKLOADS.map((w) => w.id).join(', ')}`,
    );
  const pairs = Number(values.pairs);
  if (!Number.isInteger(pairs) || pairs < 1)
    throw new Error(`--pairs ${values.pairs}: expected a positive integer`);
  const changes: KernelsBackendOptions = {};
  const described: string[] = [];
  if (values.without) {
    changes.exclude = values.without.split(',');
    described.push(`without ${changes.exclude.join(', ')}`);
  }
  if (values.threads !== undefined) {
    changes.threads = Number(values.threads);
    described.push(`${values.threads} ONNX Runtime thread(s)`);
  }
  if (!described.length)
    throw new Error('variant B needs a change: --without K1,K2,… or --threads N');
  const a = await registerKernelsBackend({ name: 'posenc-kernels-a' });
  const b = await registerKernelsBackend({ name: 'posenc-kernels-b', ...changes });
  // Each variant's tensors are made on its own backend, so no step moves data between them.
  const runs: WorkloadRun[] = [];
  for (const info of [a, b]) {
    await tf.setBackend(info.name);
    const run = await workload.setup(ISSUE_SIZES);
    await run.step(); // warm-up
    runs.push(run);
  }
  const [runA, runB] = runs as [WorkloadRun, WorkloadRun];
  const timesA: number[] = [];
  const timesB: number[] = [];
  const ratios: number[] = [];
  const loadStart = loadavg()[0]!;
  for (let i = 0; i < pairs; i++) {
    const order = i % 2 === 0 ? ([0, 1] as const) : ([1, 0] as const);
    const t: number[] = [];
    for (const which of order)
      t[which] = await timed(which === 0 ? a.name : b.name, which === 0 ? runA : runB);
    timesA.push(t[0]!);
    timesB.push(t[1]!);
    ratios.push(t[1]! / t[0]!);
  }
  const sa = summarize(timesA);
  const sb = summarize(timesB);
  const r = summarize(ratios);
  const fmt = (s: ReturnType<typeof summarize>) =>
    `median ${s.median_ms.toFixed(1)} ms (min ${s.min_ms.toFixed(1)}, max ${s.max_ms.toFixed(1)})`;
  console.log(
    `${workload.title}, ${pairs} pairs, load average ${loadStart.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`,
  );
  console.log(`A  defaults (${a.threads} ONNX Runtime threads): ${fmt(sa)}`);
  console.log(`B  ${described.join('; ')}: ${fmt(sb)}`);
  console.log(
    `B/A per pair: median ${r.median_ms.toFixed(3)} (min ${r.min_ms.toFixed(3)}, max ${r.max_ms.toFixed(3)})`,
  );
  for (const run of runs) run.dispose();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
