/**
 * One trainer per cell, whatever the queue does. BullMQ gives a job to one worker at a time only
 * while that worker keeps renewing the job's lock in Redis: a worker whose event loop is blocked
 * longer than the lock lasts (a long step), that is cut off from Redis, or whose lock was lost
 * in a Redis restart is taken for dead, and the job goes to another worker while the first one
 * still trains. Two trainers would then write the same checkpoints. So the cell's folder in the
 * store holds a lock file too (`run/lock.ts`'s exclusive create): a worker that finds it held
 * waits until the holder releases it — then finds the cell done, or resumes it — and takes it
 * over only from a holder that is gone: on this host, a pid no longer running; on another host,
 * a lock whose heartbeat (its modification time, touched while held) has not moved for
 * `staleAfterMs` of the waiter's own clock, so clocks of different machines never compare.
 */
import { stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { deadOnThisHost, tryLock, type Lock, type LockHolder } from '../run/lock.js';

export const CELL_LOCK_FILE = 'cell.lock';

export interface CellLockOptions {
  /** The holder's description in the lock file (the worker's command line, redacted). */
  command: string;
  /** How often the holder touches the lock. */
  heartbeatMs: number;
  /** A lock on another host whose heartbeat has not moved this long is taken over. */
  staleAfterMs: number;
  /** How often a waiter looks again. */
  pollMs: number;
  /** Told once per holder waited for. */
  onWait?: (holder: LockHolder) => void;
  onTakeover?: (holder: LockHolder) => void;
  /** Gives up waiting (the result is then undefined). */
  signal?: AbortSignal;
}

const identity = (h: LockHolder) => `${h.host}/${h.pid}/${h.startedAt}`;

/** The cell's lock, held with a heartbeat until released; undefined when `signal` ended the wait. */
export async function lockCell(
  cellDir: string,
  options: CellLockOptions,
): Promise<Lock | undefined> {
  const path = join(cellDir, CELL_LOCK_FILE);
  // The heartbeat as this waiter last saw it, and since when (on this machine's clock).
  let seen: { holder: string; mtimeMs: number; since: number } | undefined;
  const silentFor = async (holder: LockHolder): Promise<number> => {
    const mtimeMs = await stat(path).then(
      (s) => s.mtimeMs,
      () => -1,
    );
    const now = performance.now();
    if (!seen || seen.holder !== identity(holder) || seen.mtimeMs !== mtimeMs)
      seen = { holder: identity(holder), mtimeMs, since: now };
    return now - seen.since;
  };
  let waitedFor: string | undefined;
  for (;;) {
    const attempt = await tryLock(path, options.command, {
      isStale: async (holder) =>
        holder.host === hostname()
          ? deadOnThisHost(holder)
          : (await silentFor(holder)) >= options.staleAfterMs,
      ...(options.onTakeover && { onTakeover: options.onTakeover }),
    });
    if ('lock' in attempt) return withHeartbeat(attempt.lock, options.heartbeatMs);
    if (waitedFor !== identity(attempt.holder)) {
      waitedFor = identity(attempt.holder);
      options.onWait?.(attempt.holder);
    }
    try {
      await sleep(options.pollMs, undefined, options.signal ? { signal: options.signal } : {});
    } catch {
      return undefined;
    }
  }
}

function withHeartbeat(lock: Lock, everyMs: number): Lock {
  const beat = setInterval(() => {
    const now = new Date();
    utimes(lock.path, now, now).catch(() => undefined);
  }, everyMs);
  beat.unref();
  return {
    path: lock.path,
    release: async () => {
      clearInterval(beat);
      await lock.release();
    },
  };
}
