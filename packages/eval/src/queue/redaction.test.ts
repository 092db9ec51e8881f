/**
 * A queue password never shows: a run through a Redis that wants a password and speaks only TLS
 * (`rediss://`), with a pool of two workers (`--concurrency 2`), leaves it in no file of the run
 * folder or the store and in no output of any process — nor do a refused password and a
 * malformed URL, whose errors name the problem with the password masked. The pool's workers get
 * the address from their environment, not their command line.
 */
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchResults } from '../run/results.js';
import { startCli, when, type CliProcess } from '../testing/cli-process.js';
import { startRedis, type RedisServer } from '../testing/redis-server.js';
import { ownLines, runCli } from '../testing/run-cli.js';
import { TINY_RUN_ARGS } from '../testing/tiny-run.js';

const PASSWORD = 'Tr0ub:4d@r/3 staple';
/** Workers start, train and stop on a loaded machine: minutes, not the default two. */
const LONG = 900_000;
/** Every spelling of the password that a leak could take. */
const SPELLINGS = [PASSWORD, encodeURIComponent(PASSWORD), 'Tr0ub', '4d@r', 'staple'];

let root: string;
let redis: RedisServer;
let env: Record<string, string>;
let running: CliProcess | undefined;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'posenc-redaction-'));
  redis = await startRedis({ password: PASSWORD, tls: true });
  env = { NODE_EXTRA_CA_CERTS: redis.caFile! };
});
afterAll(async () => {
  // A failed test leaves the pool running: its workers stop with it.
  if (running && running.child.exitCode === null && running.child.signalCode === null) {
    running.child.kill('SIGTERM');
    await running.exit;
  }
  await redis?.stop();
  await rm(root, { recursive: true, force: true });
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** The command lines of a process's children (Linux's /proc). */
async function childCommandLines(pid: number): Promise<string[]> {
  const lines: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid …; comm may hold spaces, so read after its closing parenthesis.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid)
      lines.push((await readFile(`/proc/${entry}/cmdline`, 'utf8')).replaceAll('\0', ' '));
  }
  return lines;
}

const expectNoPassword = (text: string, where: string) => {
  for (const spelling of SPELLINGS)
    expect(text.includes(spelling), `${where}: ${spelling}`).toBe(false);
};

describe('a queue password', () => {
  it(
    'appears in no file of the run folder or the store and in no output',
    async () => {
      expect(redis.url).toMatch(/^rediss:\/\/:.+@127\.0\.0\.1:\d+\/0$/);
      const store = join(root, 'store');
      const pool = startCli(
        ['worker', '--queue', redis.url, '--store', store, '--concurrency', '2'],
        env,
      );
      running = pool;
      const poolReady = () =>
        (pool.output().match(/^\[\d\] posenc worker .*waiting for cells$/gm) ?? []).length === 2;
      await when(poolReady, [pool]);
      // Its children: the two workers (and tsx's esbuild service).
      const children = await childCommandLines(pool.child.pid!);
      const workers = children.filter((line) => line.includes(' worker '));
      expect(workers).toHaveLength(2);
      for (const line of workers) expect(line).toContain('worker --queue env:POSENC_WORKER_QUEUE');
      for (const line of children)
        expectNoPassword(line, 'the command line of a child of the pool');

      const out = join(root, 'run');
      const bench = await runCli(
        [
          'bench',
          'lm',
          ...TINY_RUN_ARGS,
          '--methods',
          'alibi,rope',
          '--steps',
          '30',
          '--out',
          out,
          '--queue',
          redis.url,
        ],
        { env },
      );
      expect(bench.code, bench.stderr).toBe(0);
      const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as BenchResults;
      expect(results.cells.map((c) => c.method)).toEqual(['alibi', 'rope']);
      expect(results.command).toContain('--queue rediss://:***@127.0.0.1:');
      for (const cell of results.cells) expect(cell.worker).toBeDefined();
      expect(await readFile(join(out, 'report.md'), 'utf8')).toContain(
        'Queue workers (the machine above is the coordinator',
      );

      const wrong = await runCli(
        [
          'worker',
          '--queue',
          redis.url.replace(encodeURIComponent(PASSWORD), 'staple-n0pe'),
          '--store',
          store,
        ],
        { env },
      );
      expect(wrong.code).toBe(1);
      expect(ownLines(wrong.stderr).at(-1)).toMatch(
        /^posenc: queue rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0: WRONGPASS invalid username-password pair/,
      );
      const malformed = await runCli([
        'bench',
        'lm',
        '--queue',
        `rediss://:${PASSWORD}@127.0.0.1:port`,
      ]);
      expect(malformed.code).toBe(2);
      expect(ownLines(malformed.stderr)).toEqual([
        'posenc: --queue "rediss://:***@127.0.0.1:port" has a user or password with a character a URL must percent-encode (/, ?, #, a space); write it encoded (encodeURIComponent); expected redis://[:password@]host[:port][/db] or rediss://… (TLS)',
      ]);

      pool.child.kill('SIGTERM');
      const stopped = await pool.exit;
      expect(stopped.code, stopped.stderr).toBe(130);
      expect(pool.output()).toMatch(/^\[1\] stopping$/m);

      const outputs = {
        'the pool': pool.output(),
        'the coordinator': bench.stdout + bench.stderr,
        'a worker with the wrong password': wrong.stdout + wrong.stderr,
        'a malformed URL': malformed.stdout + malformed.stderr,
      };
      for (const [where, text] of Object.entries(outputs)) expectNoPassword(text, where);
      const files = await filesUnder(root);
      expect(files.some((f) => f.endsWith('result.json') && f.startsWith(store))).toBe(true);
      for (const file of files) expectNoPassword(await readFile(file, 'latin1'), file);
    },
    LONG,
  );
});
