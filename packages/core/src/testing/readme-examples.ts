/**
 * README code blocks as tests: every ```ts / ```js block of a README is written to a file and
 * run through the repository's TypeScript loader (tsx), as a user would paste it. Node only.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const CODE_BLOCK = /^```(ts|js|typescript|javascript)\n([\s\S]*?)^```/gm;

/** The ts/js code blocks of a markdown text, in order. */
export function readmeCodeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(CODE_BLOCK)].map((match) => match[2]!);
}

export interface ReadmeExampleRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one block as an ES module (`.mts`) written into `moduleDir` — a folder whose
 * node_modules holds the packages the block imports — with a fresh temporary working directory
 * (removed afterwards) for whatever files the example writes.
 */
export async function runReadmeExample(
  block: string,
  moduleDir: string,
  env: Record<string, string> = {},
): Promise<ReadmeExampleRun> {
  const cwd = await mkdtemp(join(tmpdir(), 'posenc-readme-'));
  const file = join(moduleDir, `.readme-example-${process.pid}-${Date.now()}.mts`);
  await writeFile(file, block);
  const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  try {
    return await new Promise<ReadmeExampleRun>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--import', loader, '--conditions=@posenc/source', file],
        { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
  } finally {
    await rm(file, { force: true });
    await rm(cwd, { recursive: true, force: true });
  }
}

/**
 * One test per code block of the README in `packageDir` (at least one must exist): each runs as
 * written and exits 0. `env` is added to the examples' environment.
 */
export async function describeReadmeExamples(
  packageDir: string,
  env: Record<string, string> = {},
): Promise<void> {
  const blocks = readmeCodeBlocks(await readFile(join(packageDir, 'README.md'), 'utf8'));
  describe('README examples', () => {
    it('the README has code to run', () => expect(blocks.length).toBeGreaterThan(0));
    it.each(blocks.map((block, index) => ({ block, index })))(
      'block $index runs as written',
      async ({ block }) => {
        const run = await runReadmeExample(block, packageDir, env);
        expect(run.code, `${block}\n--- stderr:\n${run.stderr}`).toBe(0);
      },
    );
  });
}
