/**
 * `npm run bench -w @posenc/irpe-vision`: what iRPE on keys costs a ViT, and how a ViT training
 * step compares with PyTorch's, at DeiT-Tiny's shape (224px, patch 16, 12 layers, d 192, 3 heads,
 * 1000 classes) on the engine `initEngine()` selects (kernels where installed).
 *
 * - iRPE overhead: a forward and backward pass of the ViT with DeiT's learned absolute table,
 *   with and without iRPE-K (contextual product tables shared by the heads, 50 buckets); runs of
 *   the two alternate (ABBA) so load from other processes hits both alike, and the overhead is
 *   printed both as the ratio of the medians and as the median of the per-pair ratios (each pair
 *   ran back to back, so it shares its load). Target: ≤ 15% (the paper reports ~1% of the MACs).
 *   With one warm-up and 7 pairs the two figures disagreed by up to 25 points between the
 *   forward + backward and the training step of one run (2026-12-03): hence the defaults below.
 * - Against PyTorch: a training step (cross-entropy, backward, AdamW) of the same ViTs, timed by
 *   `bench/pytorch_vit_bench.py` in the same run (the faster of 1 and all threads). Target ≤ 1.5×.
 *
 * Environment: POSENC_BENCH_BATCH (default 8), POSENC_BENCH_RUNS (pairs, default 15),
 * POSENC_BENCH_WARMUP (runs of each before timing, default 2), POSENC_BACKEND.
 */
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { initEngine } from '@posenc/core';
import '../index.js';
import { PYTORCH_INSTALL_HINT, runTorchPeer, summarize } from './torch-peer.js';
import { DEIT_TINY, intFromEnv, PLAIN, stepOf, WITH_IRPE, type Step } from './vit-step.js';

const PEER_SCRIPT = fileURLToPath(new URL('../../bench/pytorch_vit_bench.py', import.meta.url));

/** Alternating runs (ABBA) of two steps after `warmup` runs of each; their times, pair by pair. */
function alternate(a: Step, b: Step, runs: number, warmup: number): [number[], number[]] {
  for (let w = 0; w < warmup; w++) {
    a.run();
    b.run();
  }
  const times: [number[], number[]] = [[], []];
  for (let r = 0; r < runs; r++) {
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) times[i]!.push((i === 0 ? a : b).run());
  }
  return times;
}

const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const batch = intFromEnv('POSENC_BENCH_BATCH', 8, 1);
  const runs = intFromEnv('POSENC_BENCH_RUNS', 15, 2);
  const warmup = intFromEnv('POSENC_BENCH_WARMUP', 2, 1);
  const cores = availableParallelism();
  console.log(`machine: ${cores} cores, load average at start ${load()}`);
  console.log(
    `ViT at DeiT-Tiny's shape (224px, patch 16, 12 layers, d 192, 3 heads, 1000 classes), batch ${batch}, ${runs} runs each after ${warmup} warm-up`,
  );

  const torch = runTorchPeer(
    PEER_SCRIPT,
    ['--sizes', JSON.stringify({ ...DEIT_TINY, batch }), '--runs', String(runs)],
    cores,
  );
  if (torch)
    console.log(
      `pytorch: torch ${torch.torch} (${torch.python}); per workload the faster of 1 and ${cores} threads`,
    );
  else console.log(`pytorch: not installed; ${PYTORCH_INSTALL_HINT}`);

  const engine = await initEngine();
  const rows: string[][] = [];
  const figure = (id: string, times: number[]) => {
    const s = summarize(times);
    const peer = torch?.results.find((r) => r.workload === id);
    rows.push([
      id,
      `${fmt(s.median_ms)} (${fmt(s.min_ms)}–${fmt(s.max_ms)})`,
      peer ? `${fmt(peer.median_ms)} (${peer.threads} thr.)` : '—',
      peer ? `${(s.median_ms / peer.median_ms).toFixed(2)}×` : '—',
    ]);
    return s.median_ms;
  };

  for (const train of [false, true]) {
    const plain = stepOf(PLAIN, batch, train);
    const irpe = stepOf(WITH_IRPE, batch, train);
    try {
      const [a, b] = alternate(plain, irpe, runs, warmup);
      const kind = train ? 'train_step' : 'fwd_bwd';
      const without = figure(`vit_${kind}`, a);
      const withIrpe = figure(`vit_irpe_k_${kind}`, b);
      // summarize() takes any numbers: here the with/without ratio of each back-to-back pair.
      const { median_ms: pair, min_ms: low, max_ms: high } = summarize(b.map((t, i) => t / a[i]!));
      const percent = (ratio: number) => `${(100 * (ratio - 1)).toFixed(1)}%`;
      console.log(
        `${train ? 'training step' : 'forward + backward'}: iRPE-K adds ${percent(withIrpe / without)} by the medians, ${percent(pair)} by the median pair (pairs ${percent(low)} to ${percent(high)})${train ? '' : '; target ≤ 15%'}`,
      );
    } finally {
      plain.dispose();
      irpe.dispose();
    }
  }
  console.log(`\nengine ${engine.engine}; medians (min–max); load average at end ${load()}\n`);
  const head = ['workload', `posenc (${engine.engine})`, 'PyTorch', 'posenc / PyTorch'];
  for (const r of [head, head.map(() => '---'), ...rows]) console.log(`| ${r.join(' | ')} |`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
