/**
 * Times single ops on the host (tfjs-backend-wasm) and on ONNX Runtime, at the shapes the
 * workloads use, to decide op by op which kernels to move:
 *
 *   npm run compare-kernels -w @posenc/kernels
 *
 * Both backends run in this process, interleaved, so machine load affects both alike.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { tf } from '@posenc/core';
import { registerKernelsBackend } from '../backend.js';
import { ACCELERATED_KERNELS } from '../kernels/index.js';

interface Case {
  label: string;
  kernel: string;
  make(): tf.Tensor[];
  op(inputs: tf.Tensor[]): tf.Tensor | tf.Tensor[];
}

const rnd = (shape: number[]) => tf.randomNormal(shape, 0, 1, 'float32', 3);

export const CASES: Case[] = [
  {
    label: 'BatchMatMul [8,8,256,64]·[8,8,256,64]ᵀ',
    kernel: 'BatchMatMul',
    make: () => [rnd([8, 8, 256, 64]), rnd([8, 8, 256, 64])],
    op: ([a, b]) => tf.matMul(a!, b!, false, true),
  },
  {
    label: 'BatchMatMul [1,2048,512]ᵀ·[1,2048,2048]',
    kernel: 'BatchMatMul',
    make: () => [rnd([1, 2048, 512]), rnd([1, 2048, 2048])],
    op: ([a, b]) => tf.matMul(a!, b!, true, false),
  },
  {
    label: 'Softmax [8,8,256,256]',
    kernel: 'Softmax',
    make: () => [rnd([8, 8, 256, 256])],
    op: ([a]) => tf.softmax(a!),
  },
  {
    label: 'Multiply [8,8,256,256]·scalar',
    kernel: 'Multiply',
    make: () => [rnd([8, 8, 256, 256])],
    op: ([a]) => tf.mul(a!, 0.125),
  },
  {
    label: 'Multiply [8,8,256,256]·same',
    kernel: 'Multiply',
    make: () => [rnd([8, 8, 256, 256]), rnd([8, 8, 256, 256])],
    op: ([a, b]) => tf.mul(a!, b!),
  },
  {
    label: 'Multiply [8,8,256,1]·[8,8,256,256]',
    kernel: 'Multiply',
    make: () => [rnd([8, 8, 256, 1]), rnd([8, 8, 256, 256])],
    op: ([a, b]) => tf.mul(a!, b!),
  },
  {
    label: 'Multiply [16,256,1]·[16,256,256]',
    kernel: 'Multiply',
    make: () => [rnd([16, 256, 1]), rnd([16, 256, 256])],
    op: ([a, b]) => tf.mul(a!, b!),
  },
  {
    label: 'Multiply [16,256,256]·[256]',
    kernel: 'Multiply',
    make: () => [rnd([16, 256, 256]), rnd([256])],
    op: ([a, b]) => tf.mul(a!, b!),
  },
  {
    label: 'Add [8,8,256,256]+[256,256]',
    kernel: 'Add',
    make: () => [rnd([8, 8, 256, 256]), rnd([256, 256])],
    op: ([a, b]) => tf.add(a!, b!),
  },
  {
    label: 'Add [8,256,2048]+same',
    kernel: 'Add',
    make: () => [rnd([8, 256, 2048]), rnd([8, 256, 2048])],
    op: ([a, b]) => tf.add(a!, b!),
  },
  {
    label: 'Sub [16,256,256]-[16,256,1]',
    kernel: 'Sub',
    make: () => [rnd([16, 256, 256]), rnd([16, 256, 1])],
    op: ([a, b]) => tf.sub(a!, b!),
  },
  {
    label: 'RealDiv [256,256]/scalar',
    kernel: 'RealDiv',
    make: () => [rnd([256, 256])],
    op: ([a]) => tf.div(a!, 3),
  },
  {
    label: 'Pow [8,256,2048]^3',
    kernel: 'Pow',
    make: () => [rnd([8, 256, 2048])],
    op: ([a]) => tf.pow(a!, 3),
  },
  {
    label: 'Tanh [8,256,2048]',
    kernel: 'Tanh',
    make: () => [rnd([8, 256, 2048])],
    op: ([a]) => tf.tanh(a!),
  },
  {
    label: 'Exp [16,256,256]',
    kernel: 'Exp',
    make: () => [rnd([16, 256, 256])],
    op: ([a]) => tf.exp(a!),
  },
  {
    label: 'Log [16,256,256]',
    kernel: 'Log',
    make: () => [tf.abs(rnd([16, 256, 256]))],
    op: ([a]) => tf.log(a!),
  },
  {
    label: 'Sigmoid [16,256,256]',
    kernel: 'Sigmoid',
    make: () => [rnd([16, 256, 256])],
    op: ([a]) => tf.sigmoid(a!),
  },
  {
    label: 'Softplus [16,256,256]',
    kernel: 'Softplus',
    make: () => [rnd([16, 256, 256])],
    op: ([a]) => tf.softplus(a!),
  },
  {
    label: 'Erf [16,256,256]',
    kernel: 'Erf',
    make: () => [rnd([16, 256, 256])],
    op: ([a]) => tf.erf(a!),
  },
  {
    label: 'Greater [16,256,256]>same',
    kernel: 'Greater',
    make: () => [rnd([16, 256, 256]), rnd([16, 256, 256])],
    op: ([a, b]) => tf.greater(a!, b!),
  },
  {
    label: 'Sqrt [256,1024]',
    kernel: 'Sqrt',
    make: () => [tf.abs(rnd([256, 1024]))],
    op: ([a]) => tf.sqrt(a!),
  },
  {
    label: 'Square [8,256,2048]',
    kernel: 'Square',
    make: () => [rnd([8, 256, 2048])],
    op: ([a]) => tf.square(a!),
  },
  {
    label: 'LessEqual [1,256]≤[256,1]',
    kernel: 'LessEqual',
    make: () => [rnd([1, 256]), rnd([256, 1])],
    op: ([a, b]) => tf.lessEqual(a!, b!),
  },
  {
    label: 'Select [256,256]',
    kernel: 'Select',
    make: () => [tf.greater(rnd([256, 256]), 0), rnd([256, 256]), rnd([256, 256])],
    op: ([c, a, b]) => tf.where(c!, a!, b!),
  },
  {
    label: 'Sum [8,8,256,256] last axis',
    kernel: 'Sum',
    make: () => [rnd([8, 8, 256, 256])],
    op: ([a]) => tf.sum(a!, -1, true),
  },
  {
    label: 'Sum [1,2048,512] axes 0,1',
    kernel: 'Sum',
    make: () => [rnd([1, 2048, 512])],
    op: ([a]) => tf.sum(a!, [0, 1]),
  },
  {
    label: 'Sum [4096,1024] axis 0',
    kernel: 'Sum',
    make: () => [rnd([4096, 1024])],
    op: ([a]) => tf.sum(a!, 0),
  },
  {
    label: 'Mean [16,256,256] last axis',
    kernel: 'Mean',
    make: () => [rnd([16, 256, 256])],
    op: ([a]) => tf.mean(a!, -1, true),
  },
  {
    label: 'Max [16,256,256] last axis',
    kernel: 'Max',
    make: () => [rnd([16, 256, 256])],
    op: ([a]) => tf.max(a!, -1, true),
  },
  {
    label: 'Transpose [8,256,8,64] 0213',
    kernel: 'Transpose',
    make: () => [rnd([8, 256, 8, 64])],
    op: ([a]) => tf.transpose(a!, [0, 2, 1, 3]),
  },
  {
    label: 'SplitV [8,8,256,64] halves, last axis',
    kernel: 'SplitV',
    make: () => [rnd([8, 8, 256, 64])],
    op: ([a]) => tf.split(a!, 2, 3),
  },
  {
    label: 'Concat 2×[8,8,256,32], last axis',
    kernel: 'Concat',
    make: () => [rnd([8, 8, 256, 32]), rnd([8, 8, 256, 32])],
    op: ([a, b]) => tf.concat([a!, b!], 3),
  },
  {
    label: 'Tile [16,256,1]→[16,256,256]',
    kernel: 'Tile',
    make: () => [rnd([16, 256, 1])],
    op: ([a]) => tf.tile(a!, [1, 1, 256]),
  },
  {
    label: 'Tile [1,256]→[4096,256]',
    kernel: 'Tile',
    make: () => [rnd([1, 256])],
    op: ([a]) => tf.tile(a!, [4096, 1]),
  },
  {
    label: 'Cast bool→float [8,256,2048]',
    kernel: 'Cast',
    make: () => [tf.greater(rnd([8, 256, 2048]), 0)],
    op: ([a]) => tf.cast(a!, 'float32'),
  },
  {
    label: 'GatherV2 [256,256][16,256]',
    kernel: 'GatherV2',
    make: () => [rnd([256, 256]), tf.randomUniform([16, 256], 0, 256, 'int32', 1)],
    op: ([x, i]) => tf.gather(x!, i!),
  },
  {
    label: 'UnsortedSegmentSum [4096,256]→256',
    kernel: 'UnsortedSegmentSum',
    make: () => [rnd([4096, 256]), tf.randomUniform([4096], 0, 256, 'int32', 1)],
    op: ([x, i]) => tf.unsortedSegmentSum(x!, i as tf.Tensor1D, 256),
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/**
 * Median wall and CPU time of the op (CPU = user + system over all threads of this process). On
 * a busy machine CPU time is steadier; with several ONNX Runtime threads it counts each thread.
 */
async function timeOn(
  backend: string,
  c: Case,
  repeats: number,
): Promise<{ wall: number; cpu: number }> {
  await tf.setBackend(backend);
  const inputs = c.make();
  try {
    // Kernels on both backends are synchronous: the op has run when it returns.
    // The result is freed inside tidy: kept results would grow the heap and time page faults.
    const once = () =>
      tf.tidy(() => {
        c.op(inputs);
      });
    once();
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const startCpu = process.cpuUsage();
      const start = performance.now();
      once();
      wall.push(performance.now() - start);
      const used = process.cpuUsage(startCpu);
      cpu.push((used.user + used.system) / 1000);
    }
    return { wall: median(wall), cpu: median(cpu) };
  } finally {
    tf.dispose(inputs);
  }
}

/** In a child process: both timings of one case, as JSON on stdout. */
async function timeCase(
  index: number,
  repeats: number,
  threads: number | undefined,
): Promise<void> {
  // Every kernel on ONNX Runtime (threshold 0), to time the ONNX side of each case.
  const { name } = await registerKernelsBackend({
    name: 'posenc-kernels-all',
    kernels: 'all',
    minElements: 0,
    threads,
  });
  const c = CASES[index]!;
  const wasm = await timeOn('wasm', c, repeats);
  const onnx = await timeOn(name, c, repeats);
  process.stdout.write(JSON.stringify({ wasm, onnx }) + '\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      repeats: { type: 'string', default: '9' },
      threads: { type: 'string' },
      filter: { type: 'string' },
      case: { type: 'string' },
    },
  });
  const threads = values.threads ? Number(values.threads) : undefined;
  const repeats = Number(values.repeats);
  if (values.case !== undefined) return timeCase(Number(values.case), repeats, threads);

  const known = new Set(ACCELERATED_KERNELS.map((k) => k.kernelName));
  console.log(
    `median of ${repeats}; ONNX Runtime with ${threads ?? 'default'} threads; wall ms (CPU ms)`,
  );
  console.log(`${'op'.padEnd(42)} ${'wasm'.padStart(15)} ${'onnx'.padStart(15)}  faster (wall)`);
  const cell = (t: { wall: number; cpu: number }) =>
    `${t.wall.toFixed(2)} (${t.cpu.toFixed(1)})`.padStart(15);
  for (const [index, c] of CASES.entries()) {
    if (values.filter && !c.label.includes(values.filter)) continue;
    if (!known.has(c.kernel)) continue;
    // Each case in a fresh process: a heap grown by earlier cases slows later ones down.
    const args = [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      '--case',
      String(index),
      '--repeats',
      String(repeats),
    ];
    if (threads) args.push('--threads', String(threads));
    const child = spawnSync(process.execPath, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (child.status !== 0) throw new Error(`case ${c.label} failed (exit ${child.status})`);
    const { wasm, onnx } = JSON.parse(child.stdout.trim().split('\n').pop()!) as Record<
      'wasm' | 'onnx',
      { wall: number; cpu: number }
    >;
    const ratio = Math.max(wasm.wall, onnx.wall) / Math.min(wasm.wall, onnx.wall);
    console.log(
      `${c.label.padEnd(42)} ${cell(wasm)} ${cell(onnx)}  ${onnx.wall < wasm.wall ? 'onnx' : 'wasm'} ×${ratio.toFixed(1)}`,
    );
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
