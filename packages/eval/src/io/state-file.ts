/**
 * JSON state a run keeps between processes (run.json, a cell's result.json, its partial
 * evaluations). A file that exists but does not parse — a disk that filled up, a hand edit, a
 * copy cut short — is named with its path and what to do about it, never read as "absent".
 */
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

export class StateFileError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
    readonly remedy: string,
  ) {
    super(`${path} ${problem}; ${remedy}`);
    this.name = 'StateFileError';
  }
}

/**
 * The parsed JSON at `path`, or undefined when there is no such file. `remedy` says what the
 * user can do when the file is corrupt (it depends on what the file records). `check` rejects
 * well-formed JSON of the wrong shape with a reason.
 */
export async function readStateFile<T>(
  path: string,
  remedy: string,
  check?: (value: unknown) => string | undefined,
): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new StateFileError(path, `is corrupt (not valid JSON: ${(e as Error).message})`, remedy);
  }
  const problem =
    value === null || typeof value !== 'object' ? 'is not a JSON object' : check?.(value);
  if (problem) throw new StateFileError(path, `is corrupt (${problem})`, remedy);
  return value as T;
}

/** `<file>.tmp-<pid>` and `<file>.tmp-<pid>-<hex>`: what the atomic writers leave when killed. */
const TEMP_FILE = /\.tmp-(\d+)(?:-[0-9a-f]+)?$/;

/**
 * Deletes the temp files that killed processes left under `dir` (recursively); the caller holds
 * the folder's lock, so no other process is writing there. Returns the paths removed.
 */
export async function removeStrayTempFiles(dir: string): Promise<string[]> {
  const removed: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return removed;
    throw e;
  }
  for (const entry of entries) {
    const match = TEMP_FILE.exec(entry.name);
    if (!entry.isFile() || !match || Number(match[1]) === process.pid) continue;
    const path = join(entry.parentPath, entry.name);
    await rm(path, { force: true });
    removed.push(path);
  }
  return removed;
}
