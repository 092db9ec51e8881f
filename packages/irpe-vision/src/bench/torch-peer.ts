/**
 * Runs a PyTorch peer script of the ViT bench in a child Python and reads its timings.
 *
 * Kept in this package (not taken from @posenc/kernels' bench) so that a plugin depends on core
 * only; the interpreter search follows the same rule as the kernels bench ($POSENC_PYTHON, else
 * python3, else /usr/bin/python3), so both benches time the same PyTorch.
 */
import { spawnSync } from 'node:child_process';

export const PYTORCH_INSTALL_HINT =
  'install it from Debian with `apt-get update && apt-get install -y python3-torch libopenblas0-pthread` ' +
  '(the bench uses $POSENC_PYTHON if set, else the first of python3 and /usr/bin/python3 that has torch)';

export interface PeerTiming {
  workload: string;
  median_ms: number;
  min_ms: number;
  max_ms: number;
  runs: number;
  threads: number;
}

export interface PeerRun {
  python: string;
  torch: string;
  results: PeerTiming[];
}

/** The first interpreter that can `import torch` ($POSENC_PYTHON alone when set), or undefined. */
function findTorchPython(): { python: string; torch: string } | undefined {
  const chosen = process.env['POSENC_PYTHON'];
  for (const python of chosen ? [chosen] : ['python3', '/usr/bin/python3']) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], {
      encoding: 'utf8',
    });
    if (r.status === 0) return { python, torch: r.stdout.trim() };
  }
  return undefined;
}

function runOnce(python: string, script: string, args: readonly string[], threads: number) {
  const r = spawnSync(python, [script, ...args, '--threads', String(threads)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0)
    throw new Error(
      `${python} ${script} failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`,
    );
  const out = JSON.parse(r.stdout) as { threads: number; results: Omit<PeerTiming, 'threads'>[] };
  return out.results.map((x) => ({ ...x, threads: out.threads }));
}

/**
 * The script's timings with one intra-op thread and with one per core, keeping the faster per
 * workload: on a busy machine extra OpenMP threads can make PyTorch slower, and the reference
 * should be the strongest PyTorch this machine gives. Undefined when no Python here has torch.
 */
export function runTorchPeer(
  script: string,
  args: readonly string[],
  cores: number,
): PeerRun | undefined {
  const found = findTorchPython();
  if (!found) return undefined;
  const byThreads = [...new Set([1, cores])].map((t) => runOnce(found.python, script, args, t));
  const results = byThreads[0]!.map((first) =>
    byThreads
      .map((list) => list.find((r) => r.workload === first.workload)!)
      .reduce((best, r) => (r.median_ms < best.median_ms ? r : best)),
  );
  return { ...found, results };
}

/** Median, minimum and maximum of a list of timings. */
export function summarize(times: readonly number[]) {
  if (times.length === 0) throw new Error('no timed runs');
  const s = [...times].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median_ms: median, min_ms: s[0]!, max_ms: s[s.length - 1]! };
}
