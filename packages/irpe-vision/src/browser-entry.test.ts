/** `@posenc/irpe-vision` in a browser bundle: its import graph must not reach Node's modules. */
import { bundleForBrowser } from '@posenc/core/testing';
import { describe, expect, it } from 'vitest';

describe('browser entry', () => {
  it('@posenc/irpe-vision bundles for a browser without externals', async () => {
    const code = await bundleForBrowser(
      `export * from '@posenc/irpe-vision';`,
      import.meta.dirname,
    );
    expect(code).toContain('registerEncoding');
  });
});
