#!/usr/bin/env node
/**
 * The `posenc` executable. Relative paths start where the user ran the command: under `npm run`
 * npm moves to the package folder and keeps the user's folder in INIT_CWD.
 */
import { main } from './cli/main.js';

const baseDir =
  process.env['npm_lifecycle_event'] && process.env['INIT_CWD']
    ? process.env['INIT_CWD']
    : process.cwd();
const controller = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  // First Ctrl-C: stop at the next step and checkpoint. Second: stop now.
  if (++interrupts > 1) process.exit(130);
  process.stderr.write('\nstopping after this step (Ctrl-C again to quit at once)…\n');
  controller.abort();
});
if (process.argv[2] === 'worker') {
  // A worker also stops the graceful way when told to (SIGTERM: a service manager, the pool of
  // `--concurrency`) and when the pool that started it is gone (its IPC channel closed).
  process.on('SIGTERM', () => controller.abort());
  process.on('disconnect', () => controller.abort());
}

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  baseDir,
  signal: controller.signal,
  self: { command: process.execPath, args: [...process.execArgv, process.argv[1]!] },
});
process.exit(code);
