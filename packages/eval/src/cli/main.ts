/**
 * The `posenc` command, as a function of its arguments and streams so tests can run it in
 * process. Exit codes: 0 done, 1 a cell failed or the run broke, 2 a usage mistake (one line on
 * stderr, nothing written), 130 interrupted (the state is checkpointed; rerun to continue). A
 * worker runs until it is stopped (130) or cannot go on (1: the queue refused its password).
 * Whatever is printed passes through `redactUrl`, so a queue password never is.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { findHarness, HARNESSES } from '../harnesses/index.js';
import { checkWritableFolder, makeFolder } from '../io/folder.js';
import { StateFileError } from '../io/state-file.js';
import { QueueRefusedError } from '../queue/queue-refused-error.js';
import { redactUrl } from '../queue/queue-url.js';
import { runWorkerPool } from '../queue/worker-pool.js';
import { markdownTable } from '../report/markdown.js';
import { metricTable } from '../report/metric-table.js';
import { prepareBench, startEngine } from '../run/prepare-bench.js';
import { REPORT_HTML, REPORT_MD, RESULTS_FILE } from '../run/run-folder.js';
import { runBench } from '../run/run-bench.js';
import { UsageError } from '../usage-error.js';
import { parseBenchCommand } from './bench-command.js';
import { benchHelp, listHelp, mainHelp, taskHelp, workerHelp } from './help.js';
import { listMethods } from './list-command.js';
import { scoreCommand, scoreHelp } from './score-command.js';
import { createProgressReporter, type ProgressStream } from './progress-reporter.js';
import { parseWorkerCommand, type WorkerCommand } from './worker-command.js';

export interface CliIo {
  stdout: ProgressStream;
  stderr: ProgressStream;
  /** Where relative paths start. */
  baseDir: string;
  /** Aborts a running benchmark at the next step (SIGINT); stops a worker. */
  signal?: AbortSignal;
  /** How to start this command again (`posenc worker --concurrency` starts workers so). */
  self?: { command: string; args: string[] };
}

/** The variable a pool's workers read the queue's address from, so it is not in their argv. */
const CHILD_QUEUE_VARIABLE = 'POSENC_WORKER_QUEUE';

async function worker(parsed: WorkerCommand, command: string, io: CliIo): Promise<number> {
  await checkWritableFolder(parsed.store, '--store');
  const signal = io.signal ?? new AbortController().signal;
  if (parsed.concurrency > 1) {
    const self = io.self;
    if (!self)
      throw new UsageError(
        '--concurrency above 1 starts posenc processes, which only the posenc command does; run one worker per process instead',
      );
    const fromEnv = parsed.queueText.startsWith('env:');
    const env = {
      ...process.env,
      ...(!fromEnv && { [CHILD_QUEUE_VARIABLE]: parsed.queueText }),
    };
    const queue = fromEnv ? parsed.queueText : `env:${CHILD_QUEUE_VARIABLE}`;
    return runWorkerPool({
      size: parsed.concurrency,
      start: () =>
        spawn(
          self.command,
          [
            ...self.args,
            'worker',
            '--queue',
            queue,
            '--store',
            parsed.store,
            '--stall-timeout',
            String(parsed.stallTimeoutS),
          ],
          { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env },
        ),
      stdout: io.stdout,
      stderr: io.stderr,
      signal,
    });
  }
  const progress = createProgressReporter(io.stderr);
  await makeFolder(parsed.store);
  const engine = await startEngine((line) => progress.note(line));
  // The worker and the coordinator load BullMQ and ioredis: only when used, so that every other
  // command starts as fast as before.
  const { runWorker } = await import('../queue/worker.js');
  await runWorker({
    address: parsed.address,
    store: parsed.store,
    stallTimeoutMs: parsed.stallTimeoutS * 1000,
    engine,
    command,
    progress,
    signal,
  });
  return signal.aborted ? 130 : 0;
}

const isHelp = (a: string | undefined) => a === '--help' || a === '-h';
const tasks = () => HARNESSES.map((h) => h.task).join(', ');

function harnessFor(task: string, command: string) {
  const harness = findHarness(task);
  if (!harness) throw new UsageError(`${command}: unknown task '${task}'; tasks: ${tasks()}`);
  return harness;
}

/** `stream` with every text written to it redacted: nothing printed can carry a queue password. */
function redacted(stream: ProgressStream): ProgressStream {
  return {
    write: (text: string) => stream.write(redactUrl(text)),
    get isTTY() {
      return stream.isTTY;
    },
    get columns() {
      return stream.columns;
    },
  };
}

export async function main(argv: readonly string[], given: CliIo): Promise<number> {
  const io = { ...given, stdout: redacted(given.stdout), stderr: redacted(given.stderr) };
  const out = (text: string) => io.stdout.write(text.endsWith('\n') ? text : text + '\n');
  // As recorded in run.json, results, reports and lock files.
  const commandLine = redactUrl(['posenc', ...argv].join(' '));
  try {
    const [command, ...rest] = argv;
    if (command === undefined || isHelp(command)) {
      out(mainHelp());
      return command === undefined ? 2 : 0;
    }
    if (command === 'list') {
      if (isHelp(rest[0])) return (out(listHelp()), 0);
      if (rest.length > 1)
        throw new UsageError(`list takes at most one task, got ${rest.join(' ')}`);
      out(await listMethods(rest[0] === undefined ? HARNESSES : [harnessFor(rest[0], 'list')]));
      return 0;
    }
    if (command === 'score') {
      if (rest.length === 0 || rest.some(isHelp)) return (out(scoreHelp()), rest.length ? 0 : 2);
      const scored = await scoreCommand(rest, io.baseDir);
      for (const line of scored.stderr) io.stderr.write(`${line}\n`);
      out(scored.stdout);
      return 0;
    }
    if (command === 'bench') {
      const [task, ...options] = rest;
      if (task === undefined || isHelp(task)) {
        out(benchHelp());
        return task === undefined ? 2 : 0;
      }
      const harness = harnessFor(task, 'bench');
      const parsed = parseBenchCommand(harness, options, io.baseDir, commandLine);
      if (parsed.help) return (out(taskHelp(harness)), 0);
      const prepared = await prepareBench(parsed.options);
      const progress = createProgressReporter(io.stderr);
      for (const u of prepared.unavailable) progress.note(`${u.method}: not run — ${u.reason}`);
      const run = { progress, ...(io.signal && { signal: io.signal }) };
      const outcome = parsed.queue
        ? await (
            await import('../queue/coordinator.js')
          ).runQueuedBench(prepared, { ...run, address: parsed.queue })
        : await runBench(prepared, run);
      const [first] = harness.metrics(prepared.config);
      const headline = harness.metrics(prepared.config).filter((m) => m.unit === first?.unit);
      if (outcome.results.cells.length && headline.length) {
        out(`\n${markdownTable(metricTable(outcome.results, headline))}\n`);
        out(
          `${first!.unit[0]!.toUpperCase()}${first!.unit.slice(1)} (the other figures and the charts are in the reports).`,
        );
      }
      out(
        `${outcome.skipped.length ? `${outcome.skipped.length} cell(s) were already done. ` : ''}Results: ${join(outcome.folder, RESULTS_FILE)}, ${join(outcome.folder, REPORT_MD)}, ${join(outcome.folder, REPORT_HTML)}`,
      );
      if (io.signal?.aborted) {
        io.stderr.write(
          parsed.queue
            ? 'interrupted: the queued cells go on on the workers; rerun the same command to collect them\n'
            : 'interrupted: the last state is checkpointed; rerun the same command to continue\n',
        );
        return 130;
      }
      return outcome.failed.length ? 1 : 0;
    }
    if (command === 'worker') {
      const parsed = parseWorkerCommand(rest, io.baseDir);
      if (parsed.help) return (out(workerHelp()), 0);
      return await worker(parsed, commandLine, io);
    }
    throw new UsageError(
      `unknown command '${command}'; commands: list, bench <task>, score squad, worker (tasks: ${tasks()}; posenc --help)`,
    );
  } catch (e) {
    const fail = (text: string) => io.stderr.write(`posenc: ${text}\n`);
    if (e instanceof UsageError) {
      fail(e.message.split('\n')[0]!);
      return 2;
    }
    if (e instanceof StateFileError || e instanceof QueueRefusedError) {
      fail(e.message);
      return 1;
    }
    fail(e instanceof Error ? (e.stack ?? e.message) : String(e));
    return 1;
  }
}
