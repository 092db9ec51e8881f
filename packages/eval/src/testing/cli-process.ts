/** A `posenc` child process whose output can be read while it runs (to act on what it says). */
import type { ChildProcess } from 'node:child_process';
import { runCli, type CliExit } from './run-cli.js';

export interface CliProcess {
  readonly child: ChildProcess;
  readonly exit: Promise<CliExit>;
  /** stdout and stderr so far. */
  output(): string;
}

export function startCli(args: readonly string[], env?: Record<string, string>): CliProcess {
  let child!: ChildProcess;
  let output = '';
  const exit = runCli(args, {
    ...(env && { env }),
    onStart: (c) => {
      child = c;
      c.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      c.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    },
  });
  return { child, exit, output: () => output };
}

/** Resolves once `ready()` is true, checking every `everyMs`; rejects if the process exits first. */
export function when(
  ready: () => boolean,
  watched: readonly CliProcess[] = [],
  everyMs = 20,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (ready()) {
        clearInterval(timer);
        resolve();
        return;
      }
      const gone = watched.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
      if (gone) {
        clearInterval(timer);
        reject(new Error(`the process exited before the wait ended:\n${gone.output()}`));
      }
    }, everyMs);
  });
}

/** The rows of the Markdown table a bench prints on stdout: its figures as printed. */
export function printedTable(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l.startsWith('|'));
}
