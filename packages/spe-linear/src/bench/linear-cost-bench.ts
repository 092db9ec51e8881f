/**
 * `npm run bench -w @posenc/spe-linear`: what relative position at linear cost costs, on the
 * engine `initEngine()` selects (the kernels engine here). One attention forward pass of B = 1,
 * H = 2 heads of D = 64 (non-causal, as an LRA encoder layer), timed and measured:
 *   - linear attention (ReLU + 10⁻³, LRA's linear row) with gated sineSPE (R = 64, K = 10), N = 1k … 16k;
 *   - softmax attention, N = 1k … 8k (its [N, N] scores dominate);
 *   - plain linear attention and FFT-RPE (clipped bias, ±128 or POSENC_BENCH_RPE_DISTANCE),
 *     N = 1k … 8k: `linear+fft-rpe` as users get it (algorithm 'auto', which takes the band path
 *     here), `linear+fft-rpe:fft` with the Toeplitz product forced onto the FFT.
 * Time is the median of POSENC_BENCH_RUNS runs (default 3) after one warm-up, each ending in the
 * read-back of the output's sum; memory is the peak of bytes held by live tensors during the pass
 * (tf.profile's peakBytes: what the pass allocates through TF.js on any backend, unlike the
 * process RSS, which the wasm heap never returns).
 * Prints a table and the ratios the package README states; assertions are not made here.
 */
import {
  createEncoding,
  disposePositions,
  initEngine,
  linearAttention,
  sequencePositions,
  softmaxAttention,
  tf,
  type AttentionContext,
  type PositionEncoding,
} from '@posenc/core';
import { testBuildSpec } from '@posenc/core/testing';
import '../index.js';
import { bandCost, bandPlan } from '../rpe/banded.js';

const [H, D] = [2, 64];

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1)
    throw new Error(`${name}=${raw} is not allowed; expected an integer ≥ 1`);
  return v;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** FFT-RPE's ±maxDistance (POSENC_BENCH_RPE_DISTANCE, default 128): the band path's cost. */
const RPE_DISTANCE = intFromEnv('POSENC_BENCH_RPE_DISTANCE', 128);

const METHODS = [
  'linear+spe',
  'softmax',
  'linear',
  'linear+fft-rpe',
  'linear+fft-rpe:fft',
] as const;
type Method = (typeof METHODS)[number];

/** A comma-separated subset of `allowed` (all of it when unset). */
function listFromEnv<T extends string>(name: string, allowed: readonly T[]): T[] {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return [...allowed];
  const picked = raw.split(',').map((s) => s.trim());
  for (const p of picked)
    if (!allowed.includes(p as T))
      throw new Error(
        `${name}=${raw}: '${p}' is not allowed; expected some of ${allowed.join(', ')}`,
      );
  return picked as T[];
}

interface Figure {
  method: Method;
  n: number;
  ms: number;
  peakBytes: number;
  /** The path FFT-RPE took, as the encoding reports it. */
  path?: string;
}

function encodingsOf(method: Method): PositionEncoding[] {
  const make = (config: { name: string; [k: string]: unknown }) => {
    const e = createEncoding(config);
    e.build?.(testBuildSpec({ heads: H, headDim: D, layers: 1, maxPositions: 16384 }));
    return e;
  };
  if (method === 'linear+spe')
    return [make({ name: 'spe', kind: 'sine', realizations: 64, sines: 10 })];
  if (method === 'linear+fft-rpe') return [make({ name: 'fft-rpe', maxDistance: RPE_DISTANCE })];
  if (method === 'linear+fft-rpe:fft')
    return [make({ name: 'fft-rpe', maxDistance: RPE_DISTANCE, algorithm: 'fft' })];
  return [];
}

async function measure(method: Method, n: number, runs: number): Promise<Figure> {
  const positions = sequencePositions(1, n);
  const ctx: AttentionContext = {
    queryPositions: positions,
    keyPositions: positions,
    heads: H,
    headDim: D,
    causal: false,
    layer: 0,
    kind: method === 'softmax' ? 'softmax' : 'linear',
    training: false,
  };
  const encodings = encodingsOf(method);
  const q = tf.randomNormal([1, H, n, D], 0, 1, 'float32', 1) as tf.Tensor4D;
  const k = tf.randomNormal([1, H, n, D], 0, 1, 'float32', 2) as tf.Tensor4D;
  const v = tf.randomNormal([1, H, n, D], 0, 1, 'float32', 3) as tf.Tensor4D;
  const pass = () =>
    tf.tidy(() => {
      const out =
        method === 'softmax'
          ? softmaxAttention(q, k, v, { encodings, ctx }).output
          : linearAttention(q, k, v, { encodings, ctx, featureMap: 'relu+eps' });
      // A scalar of the output, not the output: reading back [1, 2, 8192, 64] (4 MB) took
      // 0.5–15 ms by itself, at random (measured; the cause was not traced), up to 3× linear
      // attention's whole pass at 8k.
      tf.sum(out).dataSync();
    });
  const times: number[] = [];
  for (let run = 0; run <= runs; run++) {
    const start = performance.now();
    pass();
    if (run > 0) times.push(performance.now() - start); // run 0 warms up
  }
  const profile = await tf.profile(pass);
  const path = encodings.map((e) => (e as { lastAlgorithm?: string }).lastAlgorithm).find(Boolean);
  tf.dispose([q, k, v]);
  for (const e of encodings) {
    for (const p of Object.values(e.parameters?.() ?? {})) p.dispose();
    e.dispose?.();
  }
  disposePositions(positions);
  return { method, n, ms: median(times), peakBytes: profile.peakBytes, path };
}

/**
 * Floating-point operations per head of FFT-RPE over plain linear attention, non-causal, N
 * queries and keys, m features, dv values. Linear: Σ φ(k)ᵀv and φ(q)·S, N·m·dv multiply-adds
 * each, and the normaliser's 2·N·m. FFT-RPE: ⌈m·dv/2⌉ + ⌈m/2⌉ pairs of real channels, each
 * pair one forward and one inverse complex radix-2 FFT of M = 2^⌈log₂(2N − 1)⌉ points
 * (5·M·log₂M each), the spectrum product (6·M), forming the channels and reading them out (6·N).
 */
function fftRpeArithmeticRatio(n: number, m: number, dv: number): number {
  const linear = 2 * (2 * n * m * dv + 2 * n * m);
  let size = 1;
  while (size < 2 * n - 1) size *= 2;
  const pairs = Math.ceil((m * dv) / 2) + Math.ceil(m / 2);
  const fftRpe = pairs * (2 * 5 * size * Math.log2(size) + 6 * size + 6 * n);
  return fftRpe / linear;
}

/** Multiply-adds per head of FFT-RPE's band path over plain linear attention's (as above). */
function bandArithmeticRatio(n: number, reach: number, m: number, dv: number): number {
  const plan = bandPlan({ queryStart: 0, keyStart: 0, queries: n, keys: n }, reach);
  return bandCost(plan, m, dv, false) / (2 * n * m * dv + 2 * n * m);
}

async function main(): Promise<void> {
  const runs = intFromEnv('POSENC_BENCH_RUNS', 3);
  const choice = await initEngine();
  console.log(
    `engine ${choice.engine} (${choice.backend}); B=1, H=${H}, D=${D}, non-causal forward; median of ${runs} runs; FFT-RPE ±${RPE_DISTANCE}`,
  );
  const plan: [Method, number[]][] = [
    ['linear+spe', [1024, 2048, 4096, 8192, 16384]],
    ['softmax', [1024, 2048, 4096, 8192]],
    ['linear', [1024, 2048, 4096, 8192]],
    ['linear+fft-rpe', [1024, 2048, 4096, 8192]],
    ['linear+fft-rpe:fft', [1024, 2048, 4096, 8192]],
  ];
  const only = listFromEnv('POSENC_BENCH_METHODS', METHODS);
  const figures: Figure[] = [];
  console.log('| method | N | ms | µs/token | peak MiB | path |');
  console.log('| --- | ---: | ---: | ---: | ---: | --- |');
  for (const [method, lengths] of plan.filter(([m]) => only.includes(m)))
    for (const n of lengths) {
      const f = await measure(method, n, runs);
      figures.push(f);
      console.log(
        `| ${method} | ${n} | ${f.ms.toFixed(1)} | ${((1000 * f.ms) / n).toFixed(2)} | ${(f.peakBytes / 2 ** 20).toFixed(1)} | ${f.path ?? ''} |`,
      );
    }
  const at = (method: Method, n: number) => figures.find((f) => f.method === method && f.n === n);
  const perToken = (f: Figure) => f.ms / f.n;
  /** A ratio of two figures of this run, or why it is missing (a method left out). */
  const ratio = (a: Figure | undefined, b: Figure | undefined, of: (f: Figure) => number) =>
    a && b ? of(a) / of(b) : undefined;
  const line = (what: string, value: number | undefined, digits: number, target: string) =>
    console.log(
      `${what}: ${value === undefined ? 'not measured in this run' : value.toFixed(digits)} (target ${target})`,
    );
  console.log('');
  line(
    'time per token, linear+SPE, N=16k / N=1k',
    ratio(at('linear+spe', 16384), at('linear+spe', 1024), perToken),
    2,
    '≤ 1.3×',
  );
  line(
    'softmax / linear+SPE at N=8k, time',
    ratio(at('softmax', 8192), at('linear+spe', 8192), (f) => f.ms),
    1,
    '≥ 5×',
  );
  line(
    'linear+SPE / softmax at N=8k, peak memory',
    ratio(at('linear+spe', 8192), at('softmax', 8192), (f) => f.peakBytes),
    3,
    '≤ 0.2',
  );
  line(
    'FFT-RPE / linear at N=8k, time',
    ratio(at('linear+fft-rpe', 8192), at('linear', 8192), (f) => f.ms),
    1,
    '≤ 2×',
  );
  line(
    'FFT-RPE forced onto the FFT / linear at N=8k, time',
    ratio(at('linear+fft-rpe:fft', 8192), at('linear', 8192), (f) => f.ms),
    1,
    'none: the FFT path is for positions the band does not cover',
  );
  console.log(
    `FFT-RPE / linear at N=8k, arithmetic: band path ${bandArithmeticRatio(8192, RPE_DISTANCE, D, D).toFixed(1)}× (multiply-adds), FFT path ${fftRpeArithmeticRatio(8192, D, D).toFixed(1)}× (flops of radix-2 FFTs against linear attention's products)`,
  );
}

await main();
