/**
 * `npm run bench -w @posenc/irpe-vision`: what iRPE on keys costs a ViT, and how a ViT training
 * step compares with PyTorch's, at DeiT-Tiny's shape (224px, patch 16, 12 layers, d 192, 3 heads,
 * 1000 classes) on the engine `initEngine()` selects (kernels where installed).
 *
 * - iRPE overhead: a forward and backward pass of the ViT with DeiT's learned absolute table,
 *   with and without iRPE-K (contextual product tables shared by the heads, 50 buckets); runs of
 *   the two alternate (ABBA) so load from other processes hits both alike. Target: ≤ 15% (the
 *   paper reports ~1% of the MACs).
 * - Against PyTorch: a training step (cross-entropy, backward, AdamW) of the same ViTs, timed by
 *   `bench/pytorch_vit_bench.py` in the same run (the faster of 1 and all threads). Target ≤ 1.5×.
 *
 * Environment: POSENC_BENCH_BATCH (default 8), POSENC_BENCH_RUNS (default 7), POSENC_BACKEND.
 */
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  AdamW,
  createEncoding,
  initEngine,
  tf,
  ViT,
  type EncodingConfig,
  type ViTConfig,
} from '@posenc/core';
import '../index.js';
import { PYTORCH_INSTALL_HINT, runTorchPeer, summarize } from './torch-peer.js';

const PEER_SCRIPT = fileURLToPath(new URL('../../bench/pytorch_vit_bench.py', import.meta.url));

function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min)
    throw new Error(`${name}=${raw} is not allowed; expected an integer ≥ ${min}`);
  return v;
}

const DEIT_TINY: ViTConfig & { imageSize: number; channels: number } = {
  imageSize: 224,
  patchSize: 16,
  channels: 3,
  classes: 1000,
  modelDim: 192,
  layers: 12,
  heads: 3,
  ffnDim: 768,
};

const PLAIN: EncodingConfig[] = [{ name: 'learned' }];
const WITH_IRPE: EncodingConfig[] = [{ name: 'learned' }, { name: 'irpe' }];

interface Step {
  run(): number;
  dispose(): void;
}

/** One timed forward and backward pass (and, with `train`, an AdamW update); returns milliseconds. */
function stepOf(encodings: EncodingConfig[], batch: number, train: boolean): Step {
  const vit = new ViT(DEIT_TINY, encodings.map(createEncoding));
  const params = vit.parameters();
  const vars = Object.values(params);
  const nameOf = new Map(Object.entries(params).map(([name, v]) => [v.name, name]));
  const optimizer = new AdamW({ lr: 1e-3, weightDecay: 0.05 });
  const { imageSize: s, channels } = DEIT_TINY;
  const images = tf.randomNormal([batch, s, s, channels], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => (i * 37) % DEIT_TINY.classes),
    'int32',
  );
  return {
    run() {
      const start = performance.now();
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => vit.loss(images, labels), vars);
        if (train) {
          const byName: Record<string, tf.Tensor> = {};
          for (const [varName, g] of Object.entries(grads)) byName[nameOf.get(varName)!] = g;
          optimizer.applyGradients(params, byName);
        }
        // The loss is read, as a training loop reads it for its log.
        value.dataSync();
      });
      return performance.now() - start;
    },
    dispose() {
      optimizer.dispose();
      vit.dispose();
      tf.dispose([images, labels]);
    },
  };
}

/** Alternating runs (ABBA) of two steps after a warm-up of each; their times. */
function alternate(a: Step, b: Step, runs: number): [number[], number[]] {
  a.run();
  b.run();
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
  const runs = intFromEnv('POSENC_BENCH_RUNS', 7, 2);
  const cores = availableParallelism();
  console.log(`machine: ${cores} cores, load average at start ${load()}`);
  console.log(
    `ViT at DeiT-Tiny's shape (224px, patch 16, 12 layers, d 192, 3 heads, 1000 classes), batch ${batch}, ${runs} runs each`,
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
      const [a, b] = alternate(plain, irpe, runs);
      const kind = train ? 'train_step' : 'fwd_bwd';
      const without = figure(`vit_${kind}`, a);
      const withIrpe = figure(`vit_irpe_k_${kind}`, b);
      console.log(
        `${train ? 'training step' : 'forward + backward'}: iRPE-K adds ${(100 * (withIrpe / without - 1)).toFixed(1)}%${train ? '' : ' (target ≤ 15%)'}`,
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
