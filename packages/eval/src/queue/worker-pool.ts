/**
 * `posenc worker --concurrency N`: N worker processes, since one process trains one cell at a
 * time. Each child's output is passed on line by line, prefixed with its number; stopping the
 * pool stops every child the graceful way (each checkpoints its cell and hands the job back);
 * a child that dies of a signal (a crash, the kernel's OOM killer) is started again — its cell
 * goes to another worker after the stall timeout — and one that exits with an error stops the
 * pool with its code. A child notices when the pool itself is gone (its IPC channel closes) and
 * stops too.
 */
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export interface WorkerPoolOptions {
  size: number;
  /** Starts child `k` (1-based) with an IPC channel and piped stdout and stderr. */
  start: (k: number) => ChildProcess;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  signal: AbortSignal;
}

const RESTART_DELAY_MS = 1000;

/** Passes a stream on in whole lines, each prefixed. */
function prefixLines(
  stream: NodeJS.ReadableStream | null,
  prefix: string,
  to: { write(t: string): unknown },
) {
  let partial = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) to.write(`${prefix}${line}\n`);
  });
  stream?.on('end', () => {
    if (partial) to.write(`${prefix}${partial}\n`);
    partial = '';
  });
}

/** Exit code: 130 when stopped, else the code of the child that failed. */
export async function runWorkerPool(options: WorkerPoolOptions): Promise<number> {
  const { signal } = options;
  const children = new Set<ChildProcess>();
  let failure: number | undefined;
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const stopAll = () => {
    for (const child of children) child.kill('SIGTERM');
    stop();
  };
  signal.addEventListener('abort', stopAll, { once: true });

  const run = async (k: number): Promise<void> => {
    while (!signal.aborted && failure === undefined) {
      const child = options.start(k);
      children.add(child);
      prefixLines(child.stdout, `[${k}] `, options.stdout);
      prefixLines(child.stderr, `[${k}] `, options.stderr);
      const [code, by] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
        child.on('exit', (c, s) => resolve([c, s]));
        child.on('error', (e) => {
          options.stderr.write(`[${k}] could not start: ${e.message}\n`);
          resolve([1, null]);
        });
      });
      children.delete(child);
      if (signal.aborted) return;
      if (by !== null) {
        options.stderr.write(`[${k}] worker ended by ${by}; starting it again\n`);
        await sleep(RESTART_DELAY_MS);
        continue;
      }
      if (failure === undefined) {
        failure = code ?? 1;
        stopAll();
      }
      return;
    }
  };
  const all = Promise.all(Array.from({ length: options.size }, (_, i) => run(i + 1)));
  await Promise.race([all, stopped]);
  await all;
  return failure ?? 130;
}
