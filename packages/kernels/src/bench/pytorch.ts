/**
 * Runs `bench/pytorch_bench.py` with the first Python that has torch, or reports that none has.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkloadSizes } from './workloads.js';

export const PYTORCH_SCRIPT = fileURLToPath(
  new URL('../../bench/pytorch_bench.py', import.meta.url),
);
export const PYTORCH_INSTALL_HINT =
  'install it from Debian with `apt-get update && apt-get install -y python3-torch libopenblas0-pthread` ' +
  '(the bench uses $POSENC_PYTHON if set, else the first of python3 and /usr/bin/python3 that has torch)';

export interface PytorchResult {
  workload: string;
  median_ms: number;
  min_ms: number;
  max_ms: number;
  runs: number;
  threads: number;
}

export interface PytorchRun {
  python: string;
  torch: string;
  results: PytorchResult[];
}

/** The first interpreter that can `import torch` ($POSENC_PYTHON alone when set), or undefined. */
export function findTorchPython(): { python: string; torch: string } | undefined {
  const chosen = process.env['POSENC_PYTHON'];
  const candidates = chosen ? [chosen] : ['python3', '/usr/bin/python3'];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], {
      encoding: 'utf8',
    });
    if (r.status === 0) return { python, torch: r.stdout.trim() };
  }
  return undefined;
}

function runScript(
  python: string,
  sizes: WorkloadSizes,
  workloads: string[],
  runs: number,
  threads: number,
): PytorchResult[] {
  const r = spawnSync(
    python,
    [
      PYTORCH_SCRIPT,
      '--sizes',
      JSON.stringify(sizes),
      '--workloads',
      workloads.join(','),
      '--runs',
      String(runs),
      '--threads',
      String(threads),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  if (r.status !== 0)
    throw new Error(
      `${python} ${PYTORCH_SCRIPT} failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`,
    );
  const out = JSON.parse(r.stdout) as {
    threads: number;
    results: Omit<PytorchResult, 'threads'>[];
  };
  return out.results.map((x) => ({ ...x, threads: out.threads }));
}

/**
 * PyTorch's time per workload: measured with one intra-op thread and with one per core, keeping
 * the faster (on a busy machine extra OpenMP threads can make it slower), so the reference is
 * the strongest PyTorch this machine gives.
 */
export function runPytorch(
  sizes: WorkloadSizes,
  workloads: string[],
  runs: number,
  cores: number,
): PytorchRun | undefined {
  const found = findTorchPython();
  if (!found) return undefined;
  const threadCounts = [...new Set([1, cores])];
  const byThreads = threadCounts.map((t) => runScript(found.python, sizes, workloads, runs, t));
  const results = workloads.map((w) => {
    const candidates = byThreads.map((list) => list.find((r) => r.workload === w)!);
    return candidates.reduce((best, r) => (r.median_ms < best.median_ms ? r : best));
  });
  return { ...found, results };
}
