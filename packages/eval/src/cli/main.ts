/**
 * The `posenc` command, as a function of its arguments and streams so tests can run it in
 * process. Exit codes: 0 done, 1 a method failed or the run broke, 2 a usage mistake (one line on
 * stderr, nothing written), 130 interrupted (the state is checkpointed; rerun to continue).
 */
import { prepareLMBench, runLMBench } from '../bench/lm-bench.js';
import { REPORT_HTML, REPORT_MD, RESULTS_FILE } from '../bench/run-folder.js';
import { markdownTable } from '../report/markdown-report.js';
import { UsageError } from '../usage-error.js';
import { BENCH_HELP, BENCH_LM_HELP, LIST_HELP, MAIN_HELP } from './help.js';
import { listMethods } from './list-command.js';
import { parseBenchArgs } from './parse-bench-args.js';
import { createProgressReporter, type ProgressStream } from './progress-reporter.js';
import { join } from 'node:path';

export interface CliIo {
  stdout: ProgressStream;
  stderr: ProgressStream;
  /** Where relative paths start. */
  baseDir: string;
  /** Aborts a running benchmark at the next step (SIGINT). */
  signal?: AbortSignal;
}

const isHelp = (a: string | undefined) => a === '--help' || a === '-h';

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const out = (text: string) => io.stdout.write(text.endsWith('\n') ? text : text + '\n');
  try {
    const [command, ...rest] = argv;
    if (command === undefined || isHelp(command)) {
      out(MAIN_HELP);
      return command === undefined ? 2 : 0;
    }
    if (command === 'list') {
      if (isHelp(rest[0])) return (out(LIST_HELP), 0);
      if (rest.length) throw new UsageError(`list takes no arguments, got ${rest.join(' ')}`);
      out(await listMethods());
      return 0;
    }
    if (command === 'bench') {
      const [what, ...options] = rest;
      if (what === undefined || isHelp(what)) {
        out(BENCH_HELP);
        return what === undefined ? 2 : 0;
      }
      if (what !== 'lm') throw new UsageError(`bench: unknown benchmark '${what}'; available: lm`);
      const parsed = parseBenchArgs(options, io.baseDir, ['posenc', ...argv].join(' '));
      if (parsed.help) return (out(BENCH_LM_HELP), 0);
      const prepared = await prepareLMBench(parsed.options);
      const progress = createProgressReporter(io.stderr);
      for (const u of prepared.unavailable) progress.note(`${u.method}: not run — ${u.reason}`);
      const outcome = await runLMBench(prepared, {
        progress,
        ...(io.signal && { signal: io.signal }),
      });
      out(`\n${markdownTable(outcome.results, 'nonoverlapping')}\n`);
      out(
        `Perplexity per token, nonoverlapping windows (sliding window and charts in the reports).`,
      );
      out(
        `${outcome.skipped.length ? `${outcome.skipped.length} method(s) were already done. ` : ''}Results: ${join(outcome.folder, RESULTS_FILE)}, ${join(outcome.folder, REPORT_MD)}, ${join(outcome.folder, REPORT_HTML)}`,
      );
      if (io.signal?.aborted) {
        io.stderr.write(
          'interrupted: the last state is checkpointed; rerun the same command to continue\n',
        );
        return 130;
      }
      return outcome.failed.length ? 1 : 0;
    }
    throw new UsageError(`unknown command '${command}'; commands: list, bench lm (posenc --help)`);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`posenc: ${e.message.split('\n')[0]}\n`);
      return 2;
    }
    io.stderr.write(`posenc: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}
