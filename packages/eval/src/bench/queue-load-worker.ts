/**
 * One worker of the queue's load check (`queue-load.ts`): `posenc worker`'s code with the toy
 * task, which the CLI does not offer. Its queue address comes from the environment. It says
 * `ready <cpu µs>` once it takes cells and `stopped <cpu µs>` when SIGTERM has stopped it, the
 * process's CPU time at each, so the check can count what the cells cost it.
 */
import { initEngine } from '@posenc/core';
import { silentProgress } from '../run/progress.js';
import { parseQueueUrl } from '../queue/queue-url.js';
import { runWorker } from '../queue/worker.js';
import { toyHarness } from '../testing/toy-harness.js';
import { LOAD_QUEUE_VARIABLE, LOAD_STORE_VARIABLE } from './queue-load-env.js';

const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

const stop = new AbortController();
process.on('SIGTERM', () => stop.abort());
const store = process.env[LOAD_STORE_VARIABLE];
if (!store) throw new Error(`${LOAD_STORE_VARIABLE} is not set`);
await runWorker({
  address: parseQueueUrl(`env:${LOAD_QUEUE_VARIABLE}`),
  store,
  stallTimeoutMs: 30_000,
  engine: await initEngine({ engine: 'cpu', log: null }),
  command: 'queue load check worker',
  progress: silentProgress,
  signal: stop.signal,
  findHarness: (task) => (task === toyHarness.task ? toyHarness : undefined),
  onReady: () => process.stdout.write(`ready ${cpuMicros()}\n`),
});
process.stdout.write(`stopped ${cpuMicros()}\n`);
