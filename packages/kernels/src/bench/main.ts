/**
 * `npm run bench -w @posenc/kernels [-- --json FILE --runs N --budget-s S --engines … --workloads …]`
 *
 * Times the workloads on this engine (kernels), tfjs-wasm and tfjs-cpu, each engine in its
 * own child process, and PyTorch through `bench/pytorch_bench.py`; prints a table and, with
 * `--json`, writes one record per workload and engine.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseEngineName, selectEngine } from '@posenc/core';
import { ISSUE_SIZES, WORKLOADS, type WorkloadSizes } from './workloads.js';
import { PYTORCH_INSTALL_HINT, runPytorch } from './pytorch.js';
import { PINNED_ORT_VERSION } from '../index.js';

export const BENCH_ENGINES = ['kernels', 'wasm', 'cpu'] as const;

export interface BenchRecord {
  workload: string;
  engine: string;
  median_ms: number;
  min_ms: number;
  max_ms: number;
  runs: number;
  ratio_to_pytorch: number | null;
  /** The language-model workloads: tokens per second at the median step time. */
  tokens_per_s?: number;
}

export function summarize(times: readonly number[]): {
  median_ms: number;
  min_ms: number;
  max_ms: number;
  runs: number;
} {
  if (times.length === 0) throw new Error('no timed runs');
  const s = [...times].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median_ms: median, min_ms: s[0]!, max_ms: s[s.length - 1]!, runs: s.length };
}

/** In the child: time each workload on one engine; at least 2 runs, then up to `runs` within the budget. */
async function timeEngine(
  engine: string,
  workloadIds: string[],
  sizes: WorkloadSizes,
  runs: number,
  budgetMs: number,
) {
  await selectEngine({ engine: parseEngineName(engine, '--engine'), log: null });
  const out: { workload: string; times: number[] }[] = [];
  for (const id of workloadIds) {
    const w = WORKLOADS.find((x) => x.id === id)!;
    const run = await w.setup(sizes);
    try {
      await run.step(); // warm-up: sessions, operator caches, heap growth
      const times: number[] = [];
      const start = performance.now();
      while (times.length < runs && (times.length < 2 || performance.now() - start < budgetMs)) {
        const t0 = performance.now();
        await run.step();
        times.push(performance.now() - t0);
      }
      out.push({ workload: id, times });
    } finally {
      run.dispose();
    }
  }
  return out;
}

function fmt(ms: number | undefined): string {
  if (ms === undefined) return '—';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

export function renderTable(
  records: readonly BenchRecord[],
  engines: readonly string[],
  workloadIds: readonly string[],
): string {
  const header = [
    'workload',
    ...engines.map((e) =>
      e === 'kernels' ? 'posenc-kernels' : e === 'pytorch' ? 'PyTorch' : `tfjs-${e}`,
    ),
    'kernels / PyTorch',
  ];
  const rows = workloadIds.map((id) => {
    const w = WORKLOADS.find((x) => x.id === id)!;
    const cells = engines.map((e) => {
      const r = records.find((x) => x.workload === id && x.engine === e);
      if (!r) return '—';
      return r.tokens_per_s
        ? `${fmt(r.median_ms)} (${Math.round(r.tokens_per_s)} tok/s)`
        : fmt(r.median_ms);
    });
    const ratio = records.find(
      (x) => x.workload === id && x.engine === 'kernels',
    )?.ratio_to_pytorch;
    return [w.title, ...cells, ratio == null ? '—' : `${ratio.toFixed(2)}×`];
  });
  const lines = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'string' },
      runs: { type: 'string', default: '7' },
      'budget-s': { type: 'string', default: '60' },
      engines: { type: 'string', default: [...BENCH_ENGINES, 'pytorch'].join(',') },
      workloads: { type: 'string', default: WORKLOADS.map((w) => w.id).join(',') },
      child: { type: 'string' },
    },
  });
  const runs = Number(values.runs);
  const budgetMs = Number(values['budget-s']) * 1000;
  if (!Number.isInteger(runs) || runs < 2)
    throw new Error(`--runs ${values.runs}: expected an integer ≥ 2`);
  if (!(budgetMs > 0))
    throw new Error(`--budget-s ${values['budget-s']}: expected a positive number of seconds`);
  const workloadIds = values.workloads!.split(',');
  for (const id of workloadIds)
    if (!WORKLOADS.some((w) => w.id === id))
      throw new Error(
        `--workloads: ${JSON.stringify(id)} is unknown; allowed: ${WORKLOADS.map((w) => w.id).join(', ')}`,
      );

  if (values.child) {
    process.stdout.write(
      JSON.stringify(await timeEngine(values.child, workloadIds, ISSUE_SIZES, runs, budgetMs)) +
        '\n',
    );
    return;
  }

  const engines = values.engines!.split(',');
  for (const e of engines)
    if (e !== 'pytorch' && !(BENCH_ENGINES as readonly string[]).includes(e))
      throw new Error(
        `--engines: ${JSON.stringify(e)} is unknown; allowed: ${[...BENCH_ENGINES, 'pytorch'].join(', ')}`,
      );
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  console.log(`machine: ${availableParallelism()} cores, load average at start ${load}`);
  if (engines.includes('kernels')) {
    const threads = process.env['POSENC_KERNELS_THREADS'] ?? String(availableParallelism());
    const host = process.env['POSENC_KERNELS_HOST'] ?? 'wasm';
    console.log(
      `posenc-kernels: onnxruntime-node ${PINNED_ORT_VERSION}, ${threads} ONNX Runtime threads, host ${host}`,
    );
  }

  const records: BenchRecord[] = [];
  let pytorchMedians = new Map<string, number>();
  if (engines.includes('pytorch')) {
    const torch = runPytorch(ISSUE_SIZES, workloadIds, runs, availableParallelism());
    if (!torch) {
      console.log('pytorch: not installed');
      console.log(`  ${PYTORCH_INSTALL_HINT}`);
    } else {
      console.log(
        `pytorch: torch ${torch.torch} (${torch.python}); per workload the faster of 1 and ${availableParallelism()} threads`,
      );
      for (const r of torch.results)
        records.push({
          workload: r.workload,
          engine: 'pytorch',
          median_ms: r.median_ms,
          min_ms: r.min_ms,
          max_ms: r.max_ms,
          runs: r.runs,
          ratio_to_pytorch: 1,
        });
      pytorchMedians = new Map(torch.results.map((x) => [x.workload, x.median_ms]));
    }
  }
  const script = fileURLToPath(import.meta.url);
  for (const engine of engines.filter((e) => e !== 'pytorch')) {
    process.stdout.write(`timing ${engine} …\n`);
    const child = spawnSync(
      process.execPath,
      [
        ...process.execArgv,
        script,
        '--child',
        engine,
        '--workloads',
        workloadIds.join(','),
        '--runs',
        String(runs),
        '--budget-s',
        String(budgetMs / 1000),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    if (child.status !== 0) throw new Error(`the ${engine} run failed (exit ${child.status})`);
    const results = JSON.parse(child.stdout.trim().split('\n').pop()!) as {
      workload: string;
      times: number[];
    }[];
    for (const r of results) {
      const s = summarize(r.times);
      const torch = pytorchMedians.get(r.workload);
      records.push({
        workload: r.workload,
        engine,
        ...s,
        ratio_to_pytorch: torch ? s.median_ms / torch : null,
      });
    }
  }
  // The language models are reported as tokens per second too (PyTorch's batches have the same tokens).
  for (const r of records) {
    const tokens = WORKLOADS.find((w) => w.id === r.workload)!.tokens?.(ISSUE_SIZES);
    if (tokens) r.tokens_per_s = tokens / (r.median_ms / 1000);
  }
  const shown = [
    ...engines.filter((e) => e !== 'pytorch'),
    ...(engines.includes('pytorch') ? ['pytorch'] : []),
  ];
  console.log(
    `\nmedian step time (${runs} runs at most, ${budgetMs / 1000} s budget per cell; load average at end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')})\n`,
  );
  console.log(renderTable(records, shown, workloadIds));
  if (values.json) {
    writeFileSync(values.json, JSON.stringify(records, null, 2) + '\n');
    console.log(`\nwrote ${records.length} records to ${values.json}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
