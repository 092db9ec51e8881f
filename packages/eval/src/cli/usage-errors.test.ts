/**
 * Usage mistakes end the `posenc` process with code 2 and one line on stderr naming the problem,
 * and leave no file behind: unknown methods and files, numbers that are not what they look like,
 * an engine that does not exist, a run folder that cannot be made or written, settings that
 * cannot fit in memory.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownLines, runCli } from '../testing/run-cli.js';

let root: string;
let readOnly: string | undefined;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'posenc-usage-'));
  // A real read-only file system where this machine lets the tests mount one (root on Linux).
  const dir = await mkdtemp(join(tmpdir(), 'posenc-ro-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    readOnly = dir;
  } catch {
    await rm(dir, { recursive: true, force: true });
  }
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  if (readOnly) {
    execFileSync('umount', [readOnly]);
    await rm(readOnly, { recursive: true, force: true });
  }
});

type Case = { args: string[]; pattern: RegExp; env?: Record<string, string>; out?: string };

describe('posenc usage errors', () => {
  it('exit with code 2, one line naming the problem, and no partial files', async () => {
    const file = join(root, 'a-file');
    const cases: Case[] = [
      {
        args: ['--methods', 'alibi,yarn-magic'],
        pattern:
          /^posenc: --methods: unknown method 'yarn-magic'; known: none, sinusoidal, .*alibi/,
      },
      {
        args: ['--corpus', `file:${join(root, 'missing.txt')}`],
        pattern: /^posenc: --corpus file:.*missing\.txt: the file .*missing\.txt does not exist$/,
      },
      {
        args: ['--corpus', `wikitext:${join(root, 'no-wikitext')}`],
        pattern: /^posenc: --corpus wikitext:.*no-wikitext: the folder .* does not exist$/,
      },
      {
        args: ['--eval-lens', '128,twelve'],
        pattern:
          /^posenc: --eval-lens: entry "twelve" is not allowed; expected an integer from 1 to 16384$/,
      },
      {
        args: ['--train-len', '0'],
        pattern: /^posenc: --train-len 0 is not allowed; expected an integer from 2 to 16384$/,
      },
      {
        args: ['--steps', '-1'],
        pattern: /^posenc: --steps -1 is not allowed; expected an integer from 1 to 100000000$/,
      },
      {
        args: ['--steps', '123456789012345678901234567890'],
        pattern:
          /^posenc: --steps 123456789012345678901234567890 is not allowed; expected an integer from 1 to 100000000$/,
      },
      {
        args: ['--lr', '0x10'],
        pattern: /^posenc: --lr "0x10" is not allowed; expected a decimal number > 0 and ≤ 10$/,
      },
      {
        args: [],
        env: { POSENC_BACKEND: 'bogus' },
        pattern:
          /^posenc: POSENC_BACKEND="bogus" is not an engine; allowed: tensorflow, kernels, webgpu, webgl, wasm, cpu$/,
      },
      {
        args: ['--batch', '1000000'],
        pattern:
          /^posenc: these settings need about \d+(\.\d)? [GTP]B at their peak, more than the 4\.3 GB available \(the wasm engine keeps tensors in WebAssembly memory \(4 GiB at most\)\); use a smaller --batch/,
      },
      {
        args: ['--dim', '100000'],
        pattern: /^posenc: these settings need about \d+(\.\d)? [GTP]B at their peak/,
      },
      {
        args: [],
        out: join(file, 'run'),
        pattern:
          /^posenc: --out .*a-file\/run: cannot make the folder .*a-file\/run: .*a-file is a file$/,
      },
      {
        args: [],
        out: '/proc/posenc-run',
        pattern:
          /^posenc: --out \/proc\/posenc-run: \/proc is on a kernel pseudo-filesystem \(like \/proc\); give a folder on a disk$/,
      },
      ...(readOnly
        ? [
            {
              args: [],
              out: join(readOnly, 'run'),
              pattern: /^posenc: --out .*\/run: .* is not writable \(a read-only file system\)$/,
            },
          ]
        : []),
    ];
    writeFileSync(file, 'not a folder');
    const outOf = (c: Case, i: number) => c.out ?? join(root, `run-${i}`);
    const exits = await Promise.all(
      cases.map((c, i) =>
        runCli(['bench', 'lm', ...c.args, '--out', outOf(c, i)], {
          cwd: root,
          ...(c.env && { env: c.env }),
        }),
      ),
    );
    exits.forEach((exit, i) => {
      const lines = ownLines(exit.stderr);
      expect(exit.code, exit.stderr).toBe(2);
      expect(lines, exit.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(cases[i]!.pattern);
      expect(existsSync(outOf(cases[i]!, i))).toBe(false);
    });
    expect(await readdir(root)).toEqual(['a-file']);
    expect(existsSync(join(root, 'results'))).toBe(false);
    if (!readOnly)
      console.warn('no read-only file system could be mounted here: that case was not run');
  });

  it('an unknown command or task is a usage error too; --help is not', async () => {
    const [unknown, task, help] = await Promise.all([
      runCli(['train']),
      runCli(['bench', 'chess']),
      runCli(['bench', 'lm', '--help']),
    ]);
    expect(unknown.code).toBe(2);
    expect(ownLines(unknown.stderr)).toEqual([
      "posenc: unknown command 'train'; commands: list, bench <task>, score squad, worker (tasks: lm, image, lra, squad; posenc --help)",
    ]);
    expect(ownLines(task.stderr)).toEqual([
      "posenc: bench: unknown task 'chess'; tasks: lm, image, lra, squad",
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: posenc bench lm [options]');
    for (const preset of ['quick', 'default', 'paper'])
      expect(help.stdout).toMatch(new RegExp(`^ {2}${preset} +\\S`, 'm'));
    expect(help.stdout).toMatch(/^ {2}--seeds a,b,c +seeds: .*\(default 0\)$/m);
    expect(help.stdout).toMatch(
      /^ {2}--train-len N +training length L in tokens \(2…16384\) \(default 64\)$/m,
    );
  });
});
