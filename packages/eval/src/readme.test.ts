/**
 * The README's library example runs as written: its TypeScript block is extracted, run through
 * the repository's loader in a scratch directory, and must write a run with both seeds.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchResults } from './run/results.js';
import { EVAL_PACKAGE_DIR, REPOSITORY_DIR, TSX_LOADER } from './testing/paths.js';

let cwd: string;
// Beside the workspace's node_modules, so `@posenc/eval` resolves as it does for a user.
const scratch = join(REPOSITORY_DIR, 'node_modules', '.cache', `posenc-readme-${process.pid}`);
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'posenc-readme-'));
  await mkdir(scratch, { recursive: true });
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
});

describe('README', () => {
  it('the library example runs and writes the run it describes', async () => {
    const readme = await readFile(join(EVAL_PACKAGE_DIR, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks).toHaveLength(1);
    const file = join(scratch, 'example.mts');
    await writeFile(file, blocks[0]!);
    const exit = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--import', TSX_LOADER, '--conditions=@posenc/source', file],
        {
          cwd,
          env: { ...process.env, POSENC_BACKEND: 'wasm' },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(exit.code, exit.stderr).toBe(0);
    const results = JSON.parse(
      await readFile(join(cwd, 'results', 'example', 'results.json'), 'utf8'),
    ) as BenchResults;
    expect(results.cells.map((c) => `${c.method}/${c.seed}`)).toEqual([
      'alibi/0',
      'alibi/1',
      'rope/0',
      'rope/1',
    ]);
    for (const c of results.cells) expect(c.metrics['nonoverlapping@64']).toBeGreaterThan(1);
  });
});
