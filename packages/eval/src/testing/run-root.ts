/**
 * What the CLI's end-to-end test files share: an engine started before their tests, and a fresh
 * temporary folder for the runs to write into, removed after them (so runs never see each other's
 * results and nothing is left in the system's temporary folder).
 */
import { initEngine, type EngineName } from '@posenc/core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/** Registers the set-up and clean-up; the function returned gives the folder once set up. */
export function engineAndRunRoot(engine: EngineName, prefix: string): () => string {
  let root: string | undefined;
  beforeAll(async () => {
    await initEngine({ engine, log: null });
    root = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });
  return () => {
    if (!root) throw new Error(`engineAndRunRoot(${prefix}): the folder exists only inside tests`);
    return root;
  };
}
