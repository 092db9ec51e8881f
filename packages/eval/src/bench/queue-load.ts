/**
 * The queue's load check: `npm run bench:queue -w @posenc/eval [-- --cells N --workers W]`.
 * N tiny cells of the toy task (default 1,000) run twice in this one invocation: in this process
 * (the embedded default, the peer) and through a real Redis with W worker processes (default 4).
 * It prints the throughput of each and the queue's overhead per cell: the CPU time the queued run
 * spent — workers, coordinator and Redis together — beyond what the local run spent on the same
 * cells, divided by N. CPU time, because other processes share the machine's cores and stretch
 * wall times; wall times and the load average are printed beside it. The cells' figures of both
 * runs must be equal, else the check fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from '../cli/args.js';
import { runQueuedBench } from '../queue/coordinator.js';
import { parseQueueUrl, type QueueAddress } from '../queue/queue-url.js';
import { connectionLog, redisClient } from '../queue/redis-client.js';
import { markdownTable } from '../report/markdown.js';
import { parseInteger } from '../run/numbers.js';
import { prepareBench } from '../run/prepare-bench.js';
import type { BenchResults } from '../run/results.js';
import { runBench } from '../run/run-bench.js';
import { startRedis } from '../testing/redis-server.js';
import { TSX_LOADER } from '../testing/paths.js';
import { toyHarness, type ToyConfig } from '../testing/toy-harness.js';
import { LOAD_QUEUE_VARIABLE, LOAD_STORE_VARIABLE } from './queue-load-env.js';

const WORKER_ENTRY = fileURLToPath(new URL('./queue-load-worker.ts', import.meta.url));
/** The queue's overhead per cell this check allows (the issue's acceptance). */
const OVERHEAD_LIMIT_MS = 50;
const TOY: ToyConfig = { steps: 4, delayMs: 0 };

const flags = parseFlags(
  process.argv.slice(2),
  [
    { flag: 'cells', takesValue: true },
    { flag: 'workers', takesValue: true },
  ],
  'options: --cells N (default 1000), --workers W (default 4)',
);
const cellCount = parseInteger('--cells', (flags.get('cells') as string) ?? '1000', {
  min: 1,
  max: 100_000,
});
const workerCount = parseInteger('--workers', (flags.get('workers') as string) ?? '4', {
  min: 1,
  max: 64,
});

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Redis's own CPU time so far (INFO cpu), in ms. */
async function redisCpuMs(address: QueueAddress): Promise<number> {
  const client = redisClient(
    address,
    'posenc-load-check',
    connectionLog(address, () => {}),
  );
  try {
    const info = await client.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)![1]);
    return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
  } finally {
    client.disconnect();
  }
}

/** A worker process and the CPU times (µs) it reports, ready and stopped. */
function startWorker(env: NodeJS.ProcessEnv): {
  child: ChildProcess;
  ready: Promise<number>;
  stopped: Promise<number>;
} {
  const child = spawn(
    process.execPath,
    ['--import', TSX_LOADER, '--conditions=@posenc/source', WORKER_ENTRY],
    { env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  const waiters: (() => void)[] = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    for (const look of waiters) look();
  });
  const reported = (what: string) =>
    new Promise<number>((resolve, reject) => {
      waiters.push(() => {
        const found = new RegExp(`^${what} (\\d+)$`, 'm').exec(output);
        if (found) resolve(Number(found[1]));
      });
      child.on('exit', (code, signal) =>
        reject(new Error(`a worker exited (${code ?? signal}) before it said '${what}'`)),
      );
    });
  return { child, ready: reported('ready'), stopped: reported('stopped') };
}

const prepare = (root: string, out: string) =>
  prepareBench<ToyConfig, unknown>({
    harness: toyHarness,
    config: TOY,
    methods: ['zero'],
    methodsExplicit: true,
    seeds: Array.from({ length: cellCount }, (_, i) => i),
    out: join(root, out),
    baseDir: root,
    command: 'queue load check',
  });

/** The cells' figures, which the queue must not change. */
const figures = (r: BenchResults) =>
  JSON.stringify(r.cells.map((c) => [c.method, c.seed, c.metrics, c.training.lossHistory]));

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const perCell = (ms: number) => `${(ms / cellCount).toFixed(2)} ms`;

process.env['POSENC_BACKEND'] = 'cpu';
const root = await mkdtemp(join(tmpdir(), 'posenc-queue-load-'));
const redis = await startRedis();
const workers: ReturnType<typeof startWorker>[] = [];
try {
  const address = parseQueueUrl(redis.url);
  const loadBefore = loadavg()[0]!;

  const localPrepared = await prepare(root, 'local');
  const localCpu = cpuMs();
  const localStart = performance.now();
  const local = await runBench(localPrepared);
  const localWall = performance.now() - localStart;
  const localCpuMs = cpuMs() - localCpu;

  const env = {
    ...process.env,
    [LOAD_QUEUE_VARIABLE]: redis.url,
    [LOAD_STORE_VARIABLE]: join(root, 'store'),
  };
  for (let k = 0; k < workerCount; k++) workers.push(startWorker(env));
  const ready = await Promise.all(workers.map((w) => w.ready));

  const queuedPrepared = await prepare(root, 'queued');
  const redisBefore = await redisCpuMs(address);
  const coordinatorCpu = cpuMs();
  const queuedStart = performance.now();
  const queued = await runQueuedBench(queuedPrepared, { address });
  const queuedWall = performance.now() - queuedStart;
  const coordinatorCpuMs = cpuMs() - coordinatorCpu;
  const redisCpu = (await redisCpuMs(address)) - redisBefore;
  for (const w of workers) w.child.kill('SIGTERM');
  const stopped = await Promise.all(workers.map((w) => w.stopped));
  const workersCpuMs = stopped.reduce((sum, s, i) => sum + (s - ready[i]!) / 1000, 0);
  const loadAfter = loadavg()[0]!;

  if (local.failed.length || queued.failed.length)
    throw new Error(`cells failed: ${JSON.stringify([...local.failed, ...queued.failed])}`);
  if (figures(local.results) !== figures(queued.results))
    throw new Error("the queued cells' figures differ from the local run's");

  const queuedCpuMs = workersCpuMs + coordinatorCpuMs + redisCpu;
  const overheadMs = (queuedCpuMs - localCpuMs) / cellCount;
  process.stdout.write(
    `Queue load check: ${cellCount} toy cells (${TOY.steps} steps each), ${workerCount} worker processes, Redis ${redis.url.replace(/^redis:\/\//, '')} (append-only file on); ${cpus().length} CPUs, load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after.\n\n`,
  );
  process.stdout.write(
    `${markdownTable({
      head: ['run', 'wall', 'cells/s', 'CPU per cell', 'of which'],
      textColumns: [4],
      rows: [
        [
          'in this process (peer)',
          seconds(localWall),
          (cellCount / (localWall / 1000)).toFixed(1),
          perCell(localCpuMs),
          '—',
        ],
        [
          `queue, ${workerCount} workers`,
          seconds(queuedWall),
          (cellCount / (queuedWall / 1000)).toFixed(1),
          perCell(queuedCpuMs),
          `workers ${perCell(workersCpuMs)}, coordinator ${perCell(coordinatorCpuMs)}, Redis ${perCell(redisCpu)}`,
        ],
      ].map((row) => row.map((text) => ({ text }))),
    })}\n\n`,
  );
  const verdict = overheadMs < OVERHEAD_LIMIT_MS ? 'under' : 'OVER';
  process.stdout.write(
    `Queue overhead per cell: ${overheadMs.toFixed(2)} ms of CPU (${verdict} the ${OVERHEAD_LIMIT_MS} ms allowed); throughput ${(localWall / queuedWall).toFixed(2)}× the local run's. The cells' figures are equal in both runs.\n`,
  );
  process.exitCode = overheadMs < OVERHEAD_LIMIT_MS ? 0 : 1;
} finally {
  for (const w of workers) w.child.kill('SIGKILL');
  await redis.stop();
  await rm(root, { recursive: true, force: true });
}
