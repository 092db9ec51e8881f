/** Versions of the packages a result depends on, read from their package.json files. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PLUGIN_PACKAGES } from './plugins.js';

const require = createRequire(import.meta.url);

export const VERSIONED_PACKAGES = [
  '@posenc/eval',
  '@posenc/core',
  ...PLUGIN_PACKAGES,
  '@posenc/kernels',
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-wasm',
  'onnxruntime-node',
] as const;

export function packageVersion(name: string): string {
  try {
    const path = require.resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(path, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

export function packageVersions(): Record<string, string> {
  return Object.fromEntries([
    ...VERSIONED_PACKAGES.map((p) => [p, packageVersion(p)]),
    ['node', process.version],
  ]);
}
