/**
 * Usage mistakes end the `posenc` process with code 2 and one line on stderr naming the problem,
 * and leave no file behind.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownLines, runCli } from '../testing/run-cli.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'posenc-usage-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('posenc usage errors', () => {
  it('exit with code 2, one line naming the problem, and no partial files', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--methods', 'alibi,yarn-magic'],
        /^posenc: --methods: unknown method 'yarn-magic'; known: none, sinusoidal, .*alibi/,
      ],
      [
        ['--corpus', `file:${join(root, 'missing.txt')}`],
        new RegExp(
          `^posenc: --corpus file:.*missing\\.txt: the file .*missing\\.txt does not exist$`,
        ),
      ],
      [
        ['--corpus', `wikitext:${join(root, 'no-wikitext')}`],
        /^posenc: --corpus wikitext:.*no-wikitext: the folder .* does not exist$/,
      ],
      [
        ['--eval-lens', '128,twelve'],
        /^posenc: --eval-lens: length "twelve" is not allowed; expected an integer ≥ 1$/,
      ],
      [['--train-len', '0'], /^posenc: --train-len 0 is not allowed; expected an integer ≥ 2$/],
    ];
    const exits = await Promise.all(
      cases.map(([args], i) =>
        runCli(['bench', 'lm', ...args, '--out', join(root, `run-${i}`)], { cwd: root }),
      ),
    );
    exits.forEach((exit, i) => {
      const [, pattern] = cases[i]!;
      const lines = ownLines(exit.stderr);
      expect(exit.code, exit.stderr).toBe(2);
      expect(lines, exit.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
      expect(existsSync(join(root, `run-${i}`))).toBe(false);
    });
    expect(await readdir(root)).toEqual([]);
    expect(existsSync(join(root, 'results'))).toBe(false);
  });

  it('an unknown command is a usage error too; --help is not', async () => {
    const [unknown, help] = await Promise.all([
      runCli(['train']),
      runCli(['bench', 'lm', '--help']),
    ]);
    expect(unknown.code).toBe(2);
    expect(ownLines(unknown.stderr)).toEqual([
      "posenc: unknown command 'train'; commands: list, bench lm (posenc --help)",
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: posenc bench lm [options]');
  });
});
