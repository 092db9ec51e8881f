/**
 * How a newcomer runs the CLI: in a fresh clone after `npm ci`, from a subdirectory, `npx posenc`
 * finds the workspace's executable (nothing built, nothing asked of the registry), and both it
 * and `npm run posenc --` take relative paths (--out, --corpus file:) from the directory the
 * command was typed in.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchResults } from '../run/results.js';
import { REPOSITORY_DIR } from '../testing/paths.js';
import { TINY_RUN_ARGS } from '../testing/tiny-run.js';

let root: string;
let clone: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'posenc-clone-'));
  clone = join(root, 'main');
  // What is committed, as a newcomer gets it.
  execFileSync('git', ['clone', '--quiet', REPOSITORY_DIR, clone]);
  // With the README's flag: onnxruntime-node's install script would download from outside npm.
  execFileSync('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: clone,
    stdio: 'ignore',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
}, 600_000);
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function run(command: string, args: string[], cwd: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      // The registry must not be needed: offline, a missing executable fails instead of downloading.
      env: { ...process.env, npm_config_offline: 'true', POSENC_BACKEND: 'wasm', INIT_CWD: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const tiny = [...TINY_RUN_ARGS, '--methods', 'alibi', '--steps', '5', '--corpus', 'file:words.txt'];

describe('a fresh clone', () => {
  it('runs npx posenc and npm run posenc from a subdirectory, paths taken from there', async () => {
    const sub = join(clone, 'experiments', 'mine');
    await mkdir(sub, { recursive: true });
    // A small corpus in the user's folder, CRLF like a file from Windows.
    const words = Array.from({ length: 4000 }, (_, i) => `word${i % 97} and more text ${i}`);
    await writeFile(join(sub, 'words.txt'), words.join('\r\n') + '\r\n');

    const list = await run('npx', ['posenc', 'list', 'lm'], sub);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/methods of lm can run here/);
    expect(existsSync(join(clone, 'packages', 'eval', 'dist'))).toBe(false);

    for (const [command, args, out] of [
      ['npx', ['posenc', 'bench', 'lm', ...tiny, '--out', 'by-npx'], 'by-npx'],
      ['npm', ['run', 'posenc', '--', 'bench', 'lm', ...tiny, '--out', 'by-npm-run'], 'by-npm-run'],
    ] as const) {
      const exit = await run(command, [...args], sub);
      expect(exit.code, exit.stderr).toBe(0);
      const results = JSON.parse(
        await readFile(join(sub, out, 'results.json'), 'utf8'),
      ) as BenchResults;
      expect((results.config as { corpus: string }).corpus).toBe(`file:${join(sub, 'words.txt')}`);
      expect(results.cells).toHaveLength(1);
      expect(existsSync(join(clone, out))).toBe(false);
    }
  });
});
