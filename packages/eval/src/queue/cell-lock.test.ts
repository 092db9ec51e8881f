/**
 * The cell lock in the store: a second worker waits while the holder lives, and gets the lock
 * when it is released; a holder that is gone is taken over — at once when it was on this host
 * (its pid no longer runs), after its heartbeat has stood still for `staleAfterMs` when it was
 * on another host (a heartbeat that moves keeps the lock its holder's however long it runs).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LockHolder } from '../run/lock.js';
import { CELL_LOCK_FILE, lockCell, type CellLockOptions } from './cell-lock.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'posenc-cell-lock-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const options = (over: Partial<CellLockOptions> = {}): CellLockOptions => ({
  command: 'posenc worker (test)',
  heartbeatMs: 50,
  staleAfterMs: 600,
  pollMs: 20,
  ...over,
});

async function folder(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir);
  return dir;
}

const holderFile = (dir: string, holder: LockHolder) =>
  writeFile(join(dir, CELL_LOCK_FILE), JSON.stringify(holder));

describe('the cell lock', () => {
  it('makes a second taker wait until the holder releases it', async () => {
    const dir = await folder('live');
    const first = (await lockCell(dir, options()))!;
    const waits: LockHolder[] = [];
    let second: Awaited<ReturnType<typeof lockCell>>;
    const taking = lockCell(dir, options({ onWait: (h) => waits.push(h) })).then(
      (l) => (second = l),
    );
    // The waiter has seen the holder: it is this process, alive.
    await expect.poll(() => waits.length, { timeout: 30_000 }).toBe(1);
    expect(waits[0]!.pid).toBe(process.pid);
    expect(second).toBeUndefined();
    await first.release();
    await taking;
    expect(second).toBeDefined();
    expect(JSON.parse(await readFile(join(dir, CELL_LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    await second!.release();
  });

  it('takes over at once from a holder on this host whose pid is gone', async () => {
    const dir = await folder('dead-here');
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    await holderFile(dir, { pid: gone, host: hostname(), startedAt: 'then', command: 'killed' });
    const takeovers: LockHolder[] = [];
    const lock = await lockCell(dir, options({ onTakeover: (h) => takeovers.push(h) }));
    expect(lock).toBeDefined();
    expect(takeovers.map((h) => h.pid)).toEqual([gone]);
    await lock!.release();
  });

  it('keeps off a holder on another host while its heartbeat moves; takes over once it stops', async () => {
    const dir = await folder('elsewhere');
    await holderFile(dir, { pid: 1, host: 'elsewhere', startedAt: 'now', command: 'far away' });
    const path = join(dir, CELL_LOCK_FILE);
    let beats = 0;
    const beat = setInterval(() => {
      beats++;
      const t = new Date(Date.now() + beats * 1000);
      void utimes(path, t, t);
    }, 50);
    const takeovers: LockHolder[] = [];
    let taken = false;
    // Staleness far longer than a beat, so a loaded machine's late timers cannot pass for silence.
    const taker = options({ staleAfterMs: 3000, onTakeover: (h) => takeovers.push(h) });
    const taking = lockCell(dir, taker).then((lock) => {
      taken = true;
      return lock;
    });
    // Well past staleAfterMs with a moving heartbeat: still the other host's.
    await expect.poll(() => beats, { timeout: 60_000 }).toBeGreaterThan(100);
    expect(taken).toBe(false);
    clearInterval(beat);
    const lock = await taking;
    expect(takeovers.map((h) => h.host)).toEqual(['elsewhere']);
    // The new holder's heartbeat moves the file's time.
    const before = (await stat(path)).mtimeMs;
    await expect.poll(async () => (await stat(path)).mtimeMs, { timeout: 30_000 }).not.toBe(before);
    await lock!.release();
  });

  it('gives up waiting when its signal is aborted', async () => {
    const dir = await folder('aborted');
    const held = (await lockCell(dir, options()))!;
    const controller = new AbortController();
    const waiting = lockCell(
      dir,
      options({ signal: controller.signal, onWait: () => controller.abort() }),
    );
    expect(await waiting).toBeUndefined();
    await held.release();
  });
});
