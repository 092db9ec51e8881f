#!/usr/bin/env node
// The `posenc` executable. In the repository (the TypeScript sources and tsx are there) it runs
// the sources, resolving the workspace packages from theirs, so `npx posenc` works right after
// `npm ci` with nothing built; in an installed package it runs the built CLI.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const source = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

function tsxLoader() {
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  } catch {
    return undefined;
  }
}

const loader = existsSync(source) ? tsxLoader() : undefined;
if (!loader) {
  await import(new URL('../dist/cli.js', import.meta.url).href);
} else {
  const child = spawn(
    process.execPath,
    ['--import', loader, '--conditions=@posenc/source', source, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  // Ctrl-C reaches the child through the terminal's process group; the child checkpoints and
  // exits, and this process exits with its code. Other signals are passed on.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
