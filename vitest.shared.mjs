/**
 * The test configuration every package shares; each `packages/<name>/vitest.config.ts` is
 * `packageTestConfig(name, import.meta.dirname)`. Plain JS with its types beside it
 * (`vitest.shared.d.mts`): the packages' type-checked projects may only hold their own sources.
 */
import { defineConfig } from 'vitest/config';

/** @param {string} name @param {string} root */
export function packageTestConfig(name, root) {
  return defineConfig({
    root,
    // Tests run in vite's SSR environment, which has its own conditions: without them workspace
    // packages would resolve to their built dist/ instead of their sources.
    resolve: { conditions: ['@posenc/source'] },
    ssr: { resolve: { conditions: ['@posenc/source'], externalConditions: ['@posenc/source'] } },
    test: {
      name,
      environment: 'node',
      include: ['src/**/*.test.ts'],
      watch: false,
      // TF.js keeps one engine per process; forks isolate tests that switch backends.
      pool: 'forks',
      maxWorkers: 2,
      // Workspace packages go through vite too, so they resolve each other from source with one
      // instance of @posenc/core (an externalised @posenc/kernels would load core's dist/ copy and
      // register its engine there).
      server: { deps: { inline: [/@posenc\//] } },
      testTimeout: 120_000,
      hookTimeout: 120_000,
    },
  });
}
