/**
 * The `posenc` command, as a function of its arguments and streams so tests can run it in
 * process. Exit codes: 0 done, 1 a cell failed or the run broke, 2 a usage mistake (one line on
 * stderr, nothing written), 130 interrupted (the state is checkpointed; rerun to continue).
 */
import { join } from 'node:path';
import { findHarness, HARNESSES } from '../harnesses/index.js';
import { StateFileError } from '../io/state-file.js';
import { markdownTable } from '../report/markdown.js';
import { metricTable } from '../report/metric-table.js';
import { prepareBench } from '../run/prepare-bench.js';
import { REPORT_HTML, REPORT_MD, RESULTS_FILE } from '../run/run-folder.js';
import { runBench } from '../run/run-bench.js';
import { UsageError } from '../usage-error.js';
import { parseBenchCommand } from './bench-command.js';
import { benchHelp, listHelp, mainHelp, taskHelp } from './help.js';
import { listMethods } from './list-command.js';
import { scoreCommand, scoreHelp } from './score-command.js';
import { createProgressReporter, type ProgressStream } from './progress-reporter.js';

export interface CliIo {
  stdout: ProgressStream;
  stderr: ProgressStream;
  /** Where relative paths start. */
  baseDir: string;
  /** Aborts a running benchmark at the next step (SIGINT). */
  signal?: AbortSignal;
}

const isHelp = (a: string | undefined) => a === '--help' || a === '-h';
const tasks = () => HARNESSES.map((h) => h.task).join(', ');

function harnessFor(task: string, command: string) {
  const harness = findHarness(task);
  if (!harness) throw new UsageError(`${command}: unknown task '${task}'; tasks: ${tasks()}`);
  return harness;
}

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const out = (text: string) => io.stdout.write(text.endsWith('\n') ? text : text + '\n');
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
      const parsed = parseBenchCommand(harness, options, io.baseDir, ['posenc', ...argv].join(' '));
      if (parsed.help) return (out(taskHelp(harness)), 0);
      const prepared = await prepareBench(parsed.options);
      const progress = createProgressReporter(io.stderr);
      for (const u of prepared.unavailable) progress.note(`${u.method}: not run — ${u.reason}`);
      const outcome = await runBench(prepared, {
        progress,
        ...(io.signal && { signal: io.signal }),
      });
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
          'interrupted: the last state is checkpointed; rerun the same command to continue\n',
        );
        return 130;
      }
      return outcome.failed.length ? 1 : 0;
    }
    throw new UsageError(
      `unknown command '${command}'; commands: list, bench <task> (tasks: ${tasks()}), score squad (posenc --help)`,
    );
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`posenc: ${e.message.split('\n')[0]}\n`);
      return 2;
    }
    if (e instanceof StateFileError) {
      io.stderr.write(`posenc: ${e.message}\n`);
      return 1;
    }
    io.stderr.write(`posenc: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}
