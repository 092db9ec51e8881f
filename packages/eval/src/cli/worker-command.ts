/**
 * `posenc worker --queue URL --store DIR [--concurrency N] [--stall-timeout SECONDS]` → the
 * worker's options, parsed strictly like `bench`; every mistake is a one-line UsageError.
 */
import { resolve } from 'node:path';
import { parseInteger } from '../run/numbers.js';
import { parseQueueUrl, QUEUE_URL_FORM, type QueueAddress } from '../queue/queue-url.js';
import { UsageError } from '../usage-error.js';
import { parseFlags } from './args.js';

export const CONCURRENCY_RANGE = { min: 1, max: 256 };
export const STALL_TIMEOUT_RANGE = { min: 2, max: 86_400 };
export const DEFAULT_STALL_TIMEOUT_S = 30;

export const WORKER_FLAGS = [
  {
    flag: 'queue',
    value: 'URL',
    help: `the Redis the coordinator queues cells on: ${QUEUE_URL_FORM}, or env:NAME to read it from an environment variable (keeps a password out of the process list)`,
  },
  {
    flag: 'store',
    value: 'DIR',
    help: "the cells' checkpoints and records, the same folder for every worker (a network mount)",
  },
  {
    flag: 'concurrency',
    value: 'N',
    help: `cells at once, each in its own process (${CONCURRENCY_RANGE.min}…${CONCURRENCY_RANGE.max}; default 1)`,
  },
  {
    flag: 'stall-timeout',
    value: 'SECONDS',
    help: `a worker silent this long (killed, cut off, or in a step longer than this) loses its cell to another worker, which resumes it from its last checkpoint (${STALL_TIMEOUT_RANGE.min}…${STALL_TIMEOUT_RANGE.max}; default ${DEFAULT_STALL_TIMEOUT_S}; give every worker the same)`,
  },
] as const;

export interface WorkerCommand {
  /** `--queue` as given, for the processes of `--concurrency`. */
  queueText: string;
  address: QueueAddress;
  store: string;
  concurrency: number;
  stallTimeoutS: number;
}

export type ParsedWorker = { help: true } | ({ help: false } & WorkerCommand);

export function parseWorkerCommand(args: readonly string[], baseDir: string): ParsedWorker {
  const hint = 'posenc worker --help lists the options';
  const values = parseFlags(
    args,
    [
      ...WORKER_FLAGS.map((f) => ({ flag: f.flag, takesValue: true })),
      { flag: 'help', takesValue: false, short: 'h' },
    ],
    hint,
  );
  if (values.has('help')) return { help: true };
  const text = (flag: string) => values.get(flag) as string | undefined;
  const queueText = text('queue');
  if (queueText === undefined) throw new UsageError(`worker needs --queue URL (${hint})`);
  const address = parseQueueUrl(queueText);
  const store = text('store');
  if (store === undefined) throw new UsageError(`worker needs --store DIR (${hint})`);
  if (store.trim() === '') throw new UsageError('--store is empty; give a folder');
  const concurrency = text('concurrency');
  const stall = text('stall-timeout');
  return {
    help: false,
    queueText,
    address,
    store: resolve(baseDir, store),
    concurrency:
      concurrency === undefined ? 1 : parseInteger('--concurrency', concurrency, CONCURRENCY_RANGE),
    stallTimeoutS:
      stall === undefined
        ? DEFAULT_STALL_TIMEOUT_S
        : parseInteger('--stall-timeout', stall, STALL_TIMEOUT_RANGE),
  };
}
