/**
 * Every package installs and runs on its own: the workspace is packed (each tarball built by
 * its prepack script), and each package is installed alone with its README's install line in a
 * fresh directory outside the workspace — the @posenc tarballs for @posenc names, the registry
 * for everything else — and its README's code blocks run there on the installed dist/. Prints
 * the installed size of each set (for the READMEs).
 *
 * It installs 350–910 MB per package from the registry: about 40 s each, 6 minutes for the eight
 * packages on 2 cores (also alone: npm run test:packaging).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readmeCodeBlocks } from '@posenc/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPOSITORY_DIR, TSX_LOADER } from './testing/paths.js';

const run = promisify(execFile);
// Every workspace package that is published (not private).
const PACKAGES = readdirSync(join(REPOSITORY_DIR, 'packages')).filter((name) => {
  const file = join(REPOSITORY_DIR, 'packages', name, 'package.json');
  if (!existsSync(file)) return false;
  return !(JSON.parse(readFileSync(file, 'utf8')) as { private?: boolean }).private;
});
const TEN_MINUTES = 600_000;

describe('packaging', () => {
  let tarballs: Map<string, string>;
  let packDir: string;

  beforeAll(async () => {
    packDir = await mkdtemp(join(tmpdir(), 'posenc-pack-'));
    await run('npm', ['pack', '--workspaces', '--pack-destination', packDir, '--silent'], {
      cwd: REPOSITORY_DIR,
      maxBuffer: 1 << 26,
    });
    tarballs = new Map();
    for (const file of await readdir(packDir)) {
      const match = /^posenc-(.+)-\d+\.\d+\.\d+\.tgz$/.exec(file);
      if (match) tarballs.set(`@posenc/${match[1]}`, join(packDir, file));
    }
  }, TEN_MINUTES);

  afterAll(async () => {
    await rm(packDir, { recursive: true, force: true });
  });

  describe('each package installed alone from its tarball', () => {
    it('npm pack makes a tarball per package, with LICENSE and dist', async () => {
      expect([...tarballs.keys()].sort()).toEqual(PACKAGES.map((p) => `@posenc/${p}`).sort());
      for (const tarball of tarballs.values()) {
        const { stdout } = await run('tar', ['-tzf', tarball]);
        expect(stdout).toContain('package/LICENSE');
        expect(stdout).toContain('package/dist/index.js');
        expect(stdout).not.toMatch(/\.test\.(ts|js)\n/);
      }
    });

    it.each(PACKAGES)(
      '@posenc/%s: the README install line and example work in a fresh directory',
      async (name) => {
        const readme = await readFile(join(REPOSITORY_DIR, 'packages', name, 'README.md'), 'utf8');
        const install = /^((?:[A-Z_]+=\S+ )*)npm i (.+)$/m.exec(readme);
        expect(install, 'the README has an `npm i …` line').not.toBeNull();
        const dir = await mkdtemp(join(tmpdir(), `posenc-install-${name}-`));
        try {
          await writeFile(join(dir, 'package.json'), '{"private": true, "type": "module"}\n');
          const env = Object.fromEntries(
            install![1]!
              .trim()
              .split(/\s+/)
              .filter(Boolean)
              .map((pair) => pair.split('=')),
          );
          const specs = install![2]!.split(/\s+/).map((spec) => {
            const local = tarballs.get(spec);
            if (spec.startsWith('@posenc/') && !local) throw new Error(`no tarball for ${spec}`);
            return local ?? spec;
          });
          // The @posenc packages are not on the registry: their tarballs stand in for it.
          const manifest = JSON.parse(
            await readFile(join(REPOSITORY_DIR, 'packages', name, 'package.json'), 'utf8'),
          ) as { dependencies?: Record<string, string> };
          const internal = Object.keys(manifest.dependencies ?? {})
            .map((dependency) => tarballs.get(dependency))
            .filter((t): t is string => t !== undefined && !specs.includes(t));
          const installed = await run(
            'npm',
            ['install', '--no-audit', '--no-fund', ...specs, ...internal],
            { cwd: dir, env: { ...process.env, ...env }, maxBuffer: 1 << 26 },
          );
          expect(installed.stderr).not.toMatch(/EBADENGINE|Unknown (project|user) config/);
          const { stdout: size } = await run('du', ['-sm', join(dir, 'node_modules')]);
          console.log(`[size] @posenc/${name} install set: ${size.split('\t')[0]} MB`);
          for (const [index, block] of readmeCodeBlocks(readme).entries()) {
            const file = join(dir, `example-${index}.mts`);
            await writeFile(file, block);
            await run(process.execPath, ['--import', TSX_LOADER, file], {
              cwd: dir,
              maxBuffer: 1 << 26,
            }).catch((error: { stderr?: string }) => {
              throw new Error(`README block ${index} failed:\n${block}\n${error.stderr}`);
            });
          }
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
      TEN_MINUTES,
    );
  });
});
