/**
 * `@posenc/core` in a browser bundle: its import graph must not reach Node's modules. The
 * node entry, which does read files, is the control that shows the check can fail.
 */
import { describe, expect, it } from 'vitest';
import { bundleForBrowser } from './testing/index.js';

const here = import.meta.dirname;

describe('browser entry', () => {
  it('@posenc/core bundles for a browser without externals', async () => {
    const code = await bundleForBrowser(`export * from '@posenc/core';`, here);
    expect(code).toContain('registerEncoding');
    expect(code).not.toMatch(/from\s*["']node:/);
  });

  it('the node entry does not: it reads files', async () => {
    await expect(bundleForBrowser(`export * from './index.node.ts';`, here)).rejects.toThrow(
      /Could not resolve "node:fs\/promises"/,
    );
  });
});
