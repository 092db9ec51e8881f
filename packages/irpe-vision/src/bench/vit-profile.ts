/**
 * `npm run profile -w @posenc/irpe-vision`: where the time of a ViT-Tiny forward + backward pass
 * goes with and without iRPE-K, kernel by kernel (`tf.profile`), and the difference: what iRPE
 * costs, op by op. The kernels of every engine here run synchronously, so kernel times are wall
 * times and add up to the step, less the JS between kernels.
 *
 * Environment: POSENC_BENCH_BATCH (default 8), POSENC_BENCH_RUNS (profiled passes, default 2),
 * POSENC_BACKEND.
 */
import { fileURLToPath } from 'node:url';
import { initEngine, tf } from '@posenc/core';
import '../index.js';
import { intFromEnv, PLAIN, stepOf, WITH_IRPE, type Step } from './vit-step.js';

interface KernelTotal {
  ms: number;
  calls: number;
}

async function profileOf(step: Step, runs: number) {
  step.run(); // warm-up: sessions, caches, memory growth
  const totals = new Map<string, KernelTotal>();
  let wall = 0;
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    const info = await tf.profile(() => {
      step.run();
      return [];
    });
    wall += (performance.now() - start) / runs;
    for (const k of info.kernels) {
      // customGrad ops are listed as well as the kernels they run: count only real kernels.
      if (!tf.getKernel(k.name, tf.getBackend())) continue;
      const key = `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join('')}`;
      const t = totals.get(key) ?? { ms: 0, calls: 0 };
      t.ms += (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0) / runs;
      t.calls += 1 / runs;
      totals.set(key, t);
    }
  }
  return { wall, totals };
}

async function main(): Promise<void> {
  const batch = intFromEnv('POSENC_BENCH_BATCH', 8, 1);
  const runs = intFromEnv('POSENC_BENCH_RUNS', 2, 1);
  const engine = await initEngine();
  const profiles = [];
  for (const encodings of [PLAIN, WITH_IRPE]) {
    const step = stepOf(encodings, batch, false);
    try {
      profiles.push(await profileOf(step, runs));
    } finally {
      step.dispose();
    }
  }
  const [plain, irpe] = profiles as [
    Awaited<ReturnType<typeof profileOf>>,
    Awaited<ReturnType<typeof profileOf>>,
  ];
  const sum = (m: Map<string, KernelTotal>) => [...m.values()].reduce((a, t) => a + t.ms, 0);
  console.log(
    `engine ${engine.engine}, batch ${batch}, ${runs} profiled passes: forward + backward ${plain.wall.toFixed(0)} ms without iRPE-K (kernels ${sum(plain.totals).toFixed(0)} ms), ${irpe.wall.toFixed(0)} ms with it (kernels ${sum(irpe.totals).toFixed(0)} ms)`,
  );
  console.log('kernel time iRPE-K adds, by kernel and input shapes (ms per pass, calls):');
  const keys = new Set([...plain.totals.keys(), ...irpe.totals.keys()]);
  const diffs = [...keys]
    .map((key) => {
      const a = plain.totals.get(key) ?? { ms: 0, calls: 0 };
      const b = irpe.totals.get(key) ?? { ms: 0, calls: 0 };
      return { key, ms: b.ms - a.ms, calls: b.calls - a.calls };
    })
    .filter((d) => Math.abs(d.ms) > 0.5 || d.calls !== 0)
    .sort((x, y) => y.ms - x.ms);
  for (const d of diffs)
    console.log(
      `${d.ms.toFixed(2).padStart(9)} ms ${(d.calls >= 0 ? '+' : '') + Math.round(d.calls)}×  ${d.key}`,
    );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
