/**
 * What a run folder survives: a second process on it (refused, naming the holder), a killed
 * holder (its stale lock taken over with a notice), stray temp files of killed writers (removed),
 * and corrupt state files — each named with its path and what to do, and a damaged checkpoint
 * passed over for the newest intact one with the same final figures.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { posencInProcess } from '../testing/capture.js';
import { ownLines, runCli } from '../testing/run-cli.js';
import { TINY_RUN_ARGS } from '../testing/tiny-run.js';
import type { BenchResults } from './results.js';
import { engineAndRunRoot } from '../testing/run-root.js';

const root = engineAndRunRoot('wasm', 'posenc-safety-');

const args = (out: string, steps = 30) => [
  'bench',
  'lm',
  ...TINY_RUN_ARGS,
  '--methods',
  'alibi',
  '--steps',
  String(steps),
  '--checkpoint-every',
  '10',
  '--out',
  out,
];

const posenc = (argv: string[]) => posencInProcess(argv, root());

const metrics = async (dir: string) =>
  (JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as BenchResults).cells.map(
    (c) => c.metrics,
  );

describe('two processes on one run folder', () => {
  it('the second exits 2 naming the holder; a killed holder’s lock is taken over', async () => {
    const dir = join(root(), 'locked');
    const lock = join(dir, 'run.lock');
    let holderPid = 0;
    let second: Awaited<ReturnType<typeof runCli>> | undefined;
    const first = await runCli(args(dir, 200), {
      onStart: (child) => {
        holderPid = child.pid!;
        const poll = setInterval(() => {
          if (!existsSync(lock)) return;
          clearInterval(poll);
          // Paused, the holder is alive however slow the second process is to start.
          child.kill('SIGSTOP');
          void runCli(args(dir, 200)).then((exit) => {
            second = exit;
            child.kill('SIGKILL');
          });
        }, 5);
        child.on('exit', () => clearInterval(poll));
      },
    });
    expect(first.signal).toBe('SIGKILL');
    expect(second!.code, second!.stderr).toBe(2);
    const lines = ownLines(second!.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^posenc: --out .*locked is in use by pid ${holderPid} on ${hostname()} since \\S+ \\(posenc bench lm .*\\); wait for it to finish or stop it$`,
      ),
    );
    // The killed holder left its lock; the next run takes it over, says so, and completes.
    expect(existsSync(lock)).toBe(true);
    const third = await runCli(args(dir, 200));
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toMatch(
      new RegExp(
        `taking over the lock of pid ${holderPid} \\(started \\S+\\), which is no longer running`,
      ),
    );
    expect(existsSync(lock)).toBe(false);
    expect(await metrics(dir)).toHaveLength(1);
  });
});

describe('damaged state in a run folder', () => {
  it('names each corrupt file with what to do; following it, the run ends with the same figures', async () => {
    const dir = join(root(), 'damaged');
    expect((await posenc(args(dir))).code).toBe(0);
    const reference = await metrics(dir);
    const cell = join(dir, 'cells', 'alibi', 'seed-0');

    await writeFile(join(cell, 'result.json'), '{"task": "lm", "meth');
    let run = await posenc(args(dir));
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(
      `posenc: ${join(cell, 'result.json')} is corrupt (not valid JSON: `,
    );
    expect(run.stderr).toContain(
      'delete it and rerun: the cell is then evaluated again from its last checkpoint',
    );

    await rm(join(cell, 'result.json'));
    await writeFile(join(cell, 'state', 'evaluations.json'), 'nonsense');
    run = await posenc(args(dir));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${join(cell, 'state', 'evaluations.json')} is corrupt`);
    expect(run.stderr).toContain('delete it and rerun: the evaluations it held are computed again');

    // Followed: delete it; and a damaged pointer on top, which the resume passes over.
    await rm(join(cell, 'state', 'evaluations.json'));
    await writeFile(join(cell, 'checkpoints', 'latest.json'), '{"step": 3');
    await writeFile(join(dir, 'results.json.tmp-999999'), 'half');
    await writeFile(join(cell, 'checkpoints', 'latest.json.tmp-999998'), 'half');
    run = await posenc(args(dir));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('latest.json is not valid JSON');
    expect(run.stderr).toContain('looking for the newest intact checkpoint');
    expect(run.stderr).toContain(
      `removed ${join(dir, 'results.json.tmp-999999')}, left by a process that was killed`,
    );
    expect(existsSync(join(dir, 'results.json.tmp-999999'))).toBe(false);
    expect(existsSync(join(cell, 'checkpoints', 'latest.json.tmp-999998'))).toBe(false);
    expect(await metrics(dir)).toEqual(reference);

    await writeFile(join(dir, 'run.json'), '');
    run = await posenc(args(dir));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `^posenc: ${join(dir, 'run.json')} is corrupt \\(not valid JSON: .*\\); it records the run's settings: restore it, or delete the folder`,
      ),
    );
  });
});
