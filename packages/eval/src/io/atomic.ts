/**
 * Files that are either absent, old or whole: results and reports go to a temp file beside their
 * destination, are fsynced and renamed into place (rename is atomic on POSIX), so a crash or a
 * SIGKILL never leaves a half-written `results.json` that a rerun would mistake for a finished one.
 */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function writeFileAtomic(path: string, contents: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tempPath = `${path}.tmp-${process.pid}`;
  const file = await open(tempPath, 'w');
  try {
    await file.writeFile(contents, 'utf8');
    await file.sync();
  } catch (e) {
    await file.close();
    await rm(tempPath, { force: true });
    throw e;
  }
  await file.close();
  await rename(tempPath, path);
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 1) + '\n');
}
