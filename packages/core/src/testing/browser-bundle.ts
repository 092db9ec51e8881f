/**
 * Bundling for a browser with esbuild (an optional peer dependency, for tests): a package entry
 * whose import graph reaches `node:*` (or any module a browser cannot resolve) fails the build,
 * so a test that bundles an entry proves it runs in a browser as far as imports go.
 */
import { build } from 'esbuild';

export interface BrowserBundleOptions {
  /** Resolve workspace packages to their sources (`@posenc/source`), as the tests do. Default true. */
  sources?: boolean;
  minify?: boolean;
}

/**
 * One ES module for a browser holding `code` (module source) and everything it imports, with no
 * externals; imports resolve from `resolveDir`. Rejects listing every import that cannot be
 * resolved for a browser, with the file that imports it.
 */
export async function bundleForBrowser(
  code: string,
  resolveDir: string,
  options: BrowserBundleOptions = {},
): Promise<string> {
  try {
    const result = await build({
      stdin: { contents: code, resolveDir, loader: 'ts', sourcefile: 'browser-entry.ts' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
      conditions: options.sources === false ? [] : ['@posenc/source'],
      minify: options.minify ?? false,
    });
    return result.outputFiles[0]!.text;
  } catch (error) {
    const errors = (error as { errors?: { text: string; location: { file: string } | null }[] })
      .errors;
    if (!errors) throw error;
    throw new Error(
      `bundling for a browser failed:\n  ${errors.map((e) => `${e.location?.file ?? '?'}: ${e.text}`).join('\n  ')}`,
    );
  }
}
