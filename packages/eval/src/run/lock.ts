/**
 * One process per run folder. The lock is a file created exclusively (its content — pid, host,
 * start time, command — is written to a temp file first and hard-linked into place, so a reader
 * never sees it half-written). A second process is refused with the holder's identity; a lock
 * whose pid is dead on this host (a killed run) is taken over with a notice.
 */
import { link, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { UsageError } from '../usage-error.js';

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

export interface Lock {
  readonly path: string;
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const holder = JSON.parse(await readFile(path, 'utf8')) as Partial<LockHolder>;
    if (Number.isInteger(holder.pid) && typeof holder.host === 'string')
      return holder as LockHolder;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  }
  return { pid: -1, host: '?', startedAt: '?', command: '(unreadable lock file)' };
}

function inUse(what: string, holder: LockHolder, path: string, here: string): UsageError {
  return new UsageError(
    `${what} is in use by pid ${holder.pid} on ${holder.host} since ${holder.startedAt} (${holder.command}); wait for it to finish or stop it${holder.host !== here ? `, or delete ${path} if that host is gone` : ''}`,
  );
}

/**
 * Refuses a folder whose lock is held by a live process (or one on another host), before the
 * caller looks at anything else in it; a stale lock is left for `acquireLock` to take over.
 */
export async function checkNotLocked(path: string, what: string): Promise<void> {
  const holder = await readHolder(path);
  if (!holder) return;
  const here = hostname();
  if (holder.host !== here || alive(holder.pid)) throw inUse(what, holder, path, here);
}

/**
 * Takes the lock at `path` for this process. `what` names the folder in messages (`--out
 * results/x`); `notice` receives the line about a stale lock taken over.
 */
export async function acquireLock(
  path: string,
  what: string,
  command: string,
  notice: (line: string) => void,
): Promise<Lock> {
  const mine: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    command,
  };
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, JSON.stringify(mine) + '\n');
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(temp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = await readHolder(path);
      if (!holder) continue; // released between our link and our read
      const stale = holder.host === mine.host && !alive(holder.pid);
      if (!stale || attempt > 0) throw inUse(what, holder, path, mine.host);
      // Move the stale lock aside rather than deleting it: if another process took it over in
      // between, what we moved is that process's live lock, which goes back.
      const aside = `${path}.stale-${process.pid}`;
      try {
        await rename(path, aside);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      const moved = await readHolder(aside);
      if (moved && (moved.pid !== holder.pid || moved.startedAt !== holder.startedAt)) {
        await link(aside, path).catch(() => undefined);
        await rm(aside, { force: true });
        throw inUse(what, moved, path, mine.host);
      }
      await rm(aside, { force: true });
      notice(
        `${what}: taking over the lock of pid ${holder.pid} (started ${holder.startedAt}), which is no longer running`,
      );
    }
  } finally {
    await rm(temp, { force: true });
  }
  return {
    path,
    release: async () => {
      const holder = await readHolder(path);
      if (holder?.pid === mine.pid && holder.host === mine.host) await rm(path, { force: true });
    },
  };
}
