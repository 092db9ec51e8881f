import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: import.meta.dirname,
  resolve: { conditions: ['@posenc/source'] },
  test: {
    name: '@posenc/core',
    environment: 'node',
    include: ['src/**/*.test.ts'],
    watch: false,
    // TF.js keeps one engine per process; forks isolate tests that switch backends.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
