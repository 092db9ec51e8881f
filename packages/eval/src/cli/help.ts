/**
 * Help texts, generated from the harnesses' declarations so every task documents its presets
 * and options in the same shape.
 */
import { HARNESSES } from '../harnesses/index.js';
import type { AnyHarness } from '../run/harness.js';
import { RUN_FLAGS } from './bench-command.js';

function column(rows: [string, string][], indent = 2): string {
  const width = Math.max(...rows.map(([a]) => a.length)) + 3;
  return rows.map(([a, b]) => `${' '.repeat(indent)}${a.padEnd(width)}${b}`).join('\n');
}

export function mainHelp(): string {
  return `posenc — positional encodings for Transformers on TensorFlow.js

usage: posenc <command> [options]

commands:
${column([
  [
    'list [task]',
    'every position method of each task: its paper, its package, whether it can run here',
  ],
  ...HARNESSES.map((h): [string, string] => [`bench ${h.task}`, h.summary]),
  ['score squad', 'score a SQuAD predictions file exactly as the official v1.1 / v2.0 scripts do'],
])}

Run 'posenc <command> --help' for a command's options.`;
}

export function benchHelp(): string {
  return `usage: posenc bench <task> [options]

tasks:
${column(HARNESSES.map((h) => [h.task, `${h.summary} ('posenc bench ${h.task} --help')`]))}`;
}

export function listHelp(): string {
  return `usage: posenc list [task]

Lists every method row of each task (or of the one named: ${HARNESSES.map((h) => h.task).join(', ')}) with its
paper and package, and the reason when it cannot run here (its package is not installed or lacks
what the row needs).`;
}

export function taskHelp(harness: AnyHarness): string {
  const preset = harness.presets['default']!;
  const presets = column(Object.entries(harness.presets).map(([name, p]) => [name, p.description]));
  const runOptions = column([
    ...RUN_FLAGS.map((f): [string, string] => {
      const defaults: Record<string, string> = {
        preset: ' (default: default)',
        methods: ` (default: the preset's, ${preset.methods.join(',')})`,
        seeds: ` (default ${(preset.seeds ?? [0]).join(',')})`,
      };
      return [`--${f.flag} ${f.value}`, `${f.help}${defaults[f.flag] ?? ''}`];
    }),
    ['-h, --help', 'this help'],
  ]);
  const taskOptions = column(
    harness.options.map((o) => [
      `--${o.flag} ${o.value}`,
      `${o.help} (default ${o.show(preset.config)})`,
    ]),
  );
  return `usage: posenc bench ${harness.task} [options]

${harness.summary[0]!.toUpperCase()}${harness.summary.slice(1)}.${harness.helpNotes?.length ? `\n${harness.helpNotes.join('\n')}` : ''}

presets (--preset NAME):
${presets}

run options:
${runOptions}

${harness.task} options (defaults: preset 'default'; flags override the preset):
${taskOptions}

A run folder is named by the settings' hash; rerunning the same command skips finished cells and
resumes an interrupted one from its last checkpoint. Relative paths are taken from the directory
the command was run in. A mistake in the options exits with code 2 and one line naming it, before
anything is written.`;
}
