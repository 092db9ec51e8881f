/** `@posenc/spe-linear` in a browser bundle: its import graph must not reach Node's modules. */
import { bundleForBrowser } from '@posenc/core/testing';
import { describe, expect, it } from 'vitest';

describe('browser entry', () => {
  it('@posenc/spe-linear bundles for a browser without externals', async () => {
    const code = await bundleForBrowser(`export * from '@posenc/spe-linear';`, import.meta.dirname);
    expect(code).toContain('registerEncoding');
  });
});
