/**
 * The README's usage block runs as written and prints what the README says it prints: the block
 * is copied to a scratch module in the package folder (so `@posenc/irpe-vision` resolves as it
 * does for a user) and imported in this process, with its console output captured.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';

const PACKAGE_DIR = fileURLToPath(new URL('../', import.meta.url));
const scratch = `${PACKAGE_DIR}.readme-example-${process.pid}.mts`;

afterAll(async () => {
  await rm(scratch, { force: true });
});

describe('README', () => {
  it('the usage block runs and prints the output the README states', async () => {
    const readme = await readFile(`${PACKAGE_DIR}README.md`, 'utf8');
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks).toHaveLength(1);
    const stated = /It prints `([^`]+)`/.exec(readme)?.[1];
    expect(stated).toBeDefined();
    await writeFile(scratch, blocks[0]!);
    process.env['POSENC_BACKEND'] = 'cpu';
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      printed.push(
        args.map((a) => (Array.isArray(a) ? `[ ${a.join(', ')} ]` : String(a))).join(' '),
      );
    });
    try {
      await import(/* @vite-ignore */ pathToFileURL(scratch).href);
    } finally {
      log.mockRestore();
    }
    expect(printed).toEqual([stated]);
  });
});
