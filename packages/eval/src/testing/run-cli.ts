/** Runs the `posenc` CLI as a child process (the real executable path, exit codes and signals). */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI_ENTRY, EVAL_PACKAGE_DIR, TSX_LOADER } from './paths.js';

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Starts `posenc <args>`; `onStart` gets the child (to kill it). The engine is pinned to wasm so a
 * half-built faster engine elsewhere in the workspace cannot change what the tests measure.
 */
export function runCli(
  args: readonly string[],
  options: {
    cwd?: string;
    onStart?: (child: ChildProcess) => void;
    /** Variables over the test's environment (POSENC_BACKEND, …). */
    env?: Record<string, string>;
  } = {},
): Promise<CliExit> {
  const child = spawn(
    process.execPath,
    ['--import', TSX_LOADER, '--conditions=@posenc/source', CLI_ENTRY, ...args],
    {
      cwd: options.cwd ?? EVAL_PACKAGE_DIR,
      env: { ...process.env, npm_lifecycle_event: '', POSENC_BACKEND: 'wasm', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  options.onStart?.(child);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** stderr without npm's and Node's own warnings. */
export function ownLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter(
      (l) =>
        l.trim() !== '' &&
        !l.startsWith('npm warn') &&
        !l.startsWith('(node:') &&
        !l.startsWith('(Use `node --trace-warnings'),
    );
}
