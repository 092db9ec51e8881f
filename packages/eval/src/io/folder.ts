/**
 * The run folder must be makeable and writable before anything is written to it. Node's
 * recursive mkdir loops forever under /proc (each mkdir there fails with ENOENT), and a
 * read-only mount or a path under a file only fails at the first write; both are checked up
 * front and named in one line.
 */
import { constants } from 'node:fs';
import { access, mkdir, stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UsageError } from '../usage-error.js';

/** Kernel pseudo-filesystems: proc, sysfs, devpts, cgroup, cgroup2, debugfs, tracefs. */
const PSEUDO_FILESYSTEMS = new Set([
  0x9fa0, 0x62656572, 0x1cd1, 0x27e0eb, 0x63677270, 0x64626720, 0x74726163,
]);

/** The folder and the missing folders above it, down from the nearest one that exists. */
async function nearestExisting(dir: string): Promise<{ existing: string; missing: string[] }> {
  const missing: string[] = [];
  let current = dir;
  for (;;) {
    try {
      await stat(current);
      return { existing: current, missing };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOTDIR: a file above; walking up finds it, and the caller names it.
      if (code !== 'ENOENT' && code !== 'ENOTDIR')
        throw new UsageError(`cannot use the folder ${dir}: ${(e as Error).message}`);
    }
    missing.unshift(current);
    const parent = dirname(current);
    if (parent === current) return { existing: current, missing };
    current = parent;
  }
}

/** Throws a one-line UsageError unless `dir` exists or can be made, and can be written. Writes nothing. */
export async function checkWritableFolder(dir: string, what: string): Promise<void> {
  const { existing } = await nearestExisting(dir).catch((e: UsageError) => {
    throw new UsageError(`${what}: ${e.message}`);
  });
  const info = await stat(existing);
  if (!info.isDirectory())
    throw new UsageError(`${what}: cannot make the folder ${dir}: ${existing} is a file`);
  if (PSEUDO_FILESYSTEMS.has((await statfs(existing)).type))
    throw new UsageError(
      `${what}: ${existing} is on a kernel pseudo-filesystem (like /proc); give a folder on a disk`,
    );
  try {
    await access(existing, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      `${what}: ${existing} is not writable (${code === 'EROFS' ? 'a read-only file system' : code})`,
    );
  }
}

/** Makes `dir` and the folders above it one level at a time (never Node's recursive mkdir). */
export async function makeFolder(dir: string): Promise<void> {
  const { missing } = await nearestExisting(dir);
  for (const folder of missing) {
    try {
      await mkdir(folder);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new UsageError(`cannot make the folder ${folder}: ${(e as Error).message}`);
    }
  }
}
