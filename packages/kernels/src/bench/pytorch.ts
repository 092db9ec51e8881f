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

/** One run of a peer script: its JSON line `{ threads, results }` on stdout. */
function runScript<R>(
  python: string,
  script: string,
  args: readonly string[],
  threads: number,
): (R & { threads: number })[] {
  const r = spawnSync(python, [script, ...args, '--threads', String(threads)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0)
    throw new Error(
      `${python} ${script} failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`,
    );
  const out = JSON.parse(r.stdout) as { threads: number; results: R[] };
  return out.results.map((x) => ({ ...x, threads: out.threads }));
}

/**
 * A PyTorch peer script's timings, measured with one intra-op thread and with one per core,
 * keeping the faster per workload (on a busy machine extra OpenMP threads can make it slower), so
 * the reference is the strongest PyTorch this machine gives. The script takes `args` and
 * `--threads N` and prints `{ threads, results: [{ workload, median_ms, … }] }`; undefined when
 * no Python here has torch.
 */
export function runTorchPeer<R extends { workload: string; median_ms: number }>(
  script: string,
  args: readonly string[],
  cores: number,
): { python: string; torch: string; results: (R & { threads: number })[] } | undefined {
  const found = findTorchPython();
  if (!found) return undefined;
  const byThreads = [...new Set([1, cores])].map((t) =>
    runScript<R>(found.python, script, args, t),
  );
  const results = byThreads[0]!.map((first) =>
    byThreads
      .map((list) => list.find((r) => r.workload === first.workload)!)
      .reduce((best, r) => (r.median_ms < best.median_ms ? r : best)),
  );
  return { ...found, results };
}

/** PyTorch's time per workload of the kernels benchmark (see runTorchPeer). */
export function runPytorch(
  sizes: WorkloadSizes,
  workloads: string[],
  runs: number,
  cores: number,
): PytorchRun | undefined {
  return runTorchPeer<Omit<PytorchResult, 'threads'>>(
    PYTORCH_SCRIPT,
    ['--sizes', JSON.stringify(sizes), '--workloads', workloads.join(','), '--runs', String(runs)],
    cores,
  );
}
