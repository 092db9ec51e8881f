/**
 * The LRA report: accuracy per dataset with the average (rows: methods, columns: datasets), the
 * majority class beside it, the cost of each cell (training tokens/s, memory of a training step),
 * and the published numbers as references.
 */
import { formatFigure, formatSpread } from '../../report/format.js';
import type { ReportSection, TableCell } from '../../report/sections.js';
import type { BenchResults, CellRecord } from '../../run/results.js';
import { summarizeSeeds } from '../../run/stats.js';
import { splitRowName, TASK_TITLES, type LraConfig, type LraTask } from './config.js';
import { LRA_REFERENCES } from './references.js';

type LraResults = BenchResults<LraConfig>;

interface MethodCells {
  method: string;
  byTask: Map<LraTask, CellRecord[]>;
}

/** The run's cells grouped by method (in row order), then by dataset. */
export function cellsByLraMethod(results: LraResults): MethodCells[] {
  const out: MethodCells[] = [];
  for (const row of results.methods) {
    const { task, method } = splitRowName(row);
    let entry = out.find((e) => e.method === method);
    if (!entry) out.push((entry = { method, byTask: new Map() }));
    const cells = results.cells.filter((c) => c.method === row);
    if (cells.length) entry.byTask.set(task, cells);
  }
  return out.filter((e) => e.byTask.size > 0);
}

function summary(
  cells: readonly CellRecord[] | undefined,
  pick: (c: CellRecord) => number | undefined,
): string {
  const values = (cells ?? [])
    .map(pick)
    .filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (values.length === 0) return '—';
  const s = summarizeSeeds(values);
  return s.std === undefined
    ? formatFigure(s.mean)
    : `${formatFigure(s.mean)} ± ${formatSpread(s.mean, s.std)}`;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

export function accuracySection(results: LraResults): ReportSection {
  const tasks = results.config.tasks;
  const groups = cellsByLraMethod(results);
  const averageTitle = tasks.length === 5 ? 'LRA average' : `average of ${tasks.length}`;
  const bests = tasks.map((t) =>
    Math.max(
      ...groups.map(
        (g) => mean((g.byTask.get(t) ?? []).map((c) => c.metrics['accuracy']!)) || -Infinity,
      ),
    ),
  );
  const rows: TableCell[][] = groups.map((g) => {
    const perTask = tasks.map((t) => g.byTask.get(t));
    const complete = perTask.every((c) => c && c.length);
    const average = complete
      ? mean(perTask.map((cells) => mean(cells!.map((c) => c.metrics['accuracy']!))))
      : undefined;
    return [
      { text: g.method },
      ...perTask.map((cells, i): TableCell => {
        const m = cells?.length ? mean(cells.map((c) => c.metrics['accuracy']!)) : undefined;
        return {
          text: summary(cells, (c) => c.metrics['accuracy']),
          ...(m !== undefined && m === bests[i] && { best: true }),
        };
      }),
      { text: formatFigure(average) },
    ];
  });
  const majority = tasks.map((t) => {
    const cell = groups.flatMap((g) => g.byTask.get(t) ?? [])[0];
    return cell?.metrics['majority'];
  });
  rows.push([
    { text: 'majority class' },
    ...majority.map((m) => ({ text: formatFigure(m) })),
    {
      text: formatFigure(
        majority.every((m) => m !== undefined) ? mean(majority as number[]) : undefined,
      ),
    },
  ]);
  return {
    title: 'Accuracy (%)',
    paragraphs: [
      'Test accuracy per dataset (mean ± sample std over seeds where there are several); the best of each column in bold. The last row is the accuracy of always answering the most frequent class of the test examples scored: a model must beat it to have learned anything.',
    ],
    table: { head: ['method', ...tasks.map((t) => TASK_TITLES[t]), averageTitle], rows },
  };
}

export function costSection(results: LraResults): ReportSection {
  const tasks = results.config.tasks;
  const groups = cellsByLraMethod(results);
  return {
    title: 'Cost per cell',
    paragraphs: [
      'Training throughput (examples per second over the whole training) and the memory of one training step (peak bytes held by tensors during forward and backward beyond those held before, tf.profile), per dataset.',
    ],
    table: {
      head: [
        'method',
        ...tasks.flatMap((t) => [`${TASK_TITLES[t]} examples/s`, `${TASK_TITLES[t]} MiB`]),
      ],
      rows: groups.map((g) => [
        { text: g.method },
        ...tasks.flatMap((t) => [
          { text: summary(g.byTask.get(t), (c) => c.training.unitsPerSecond) },
          { text: summary(g.byTask.get(t), (c) => c.metrics['step-memory-mib']) },
        ]),
      ]),
    },
  };
}

export function referenceSection(results: LraResults): ReportSection {
  const tasks = results.config.tasks;
  return {
    title: 'Published numbers (references)',
    paragraphs: [
      "Test accuracy (%) at the LRA configurations on the released data: the LRA leaderboard (google-research/long-range-arena README, 8 Nov 2020) and the SPE repository's results.json runs (aliutkus/spe, experiments/lra; its ListOps runs predate the fix of the bracket-dropping tokenizer and sit at chance). Runs of the default preset (generated data, small models) are not comparable to them in level, only in ordering.",
    ],
    table: {
      head: ['model', 'source', ...tasks.map((t) => TASK_TITLES[t])],
      textColumns: [1],
      rows: LRA_REFERENCES.map((r) => [
        { text: r.name },
        { text: r.source },
        ...tasks.map((t) => ({ text: formatFigure(r.accuracy[t]) })),
      ]),
    },
  };
}

export function lraReport(results: LraResults): ReportSection[] {
  return [accuracySection(results), costSection(results), referenceSection(results)];
}

export function lraRunFacts(results: LraResults): string[] {
  const c = results.config;
  const data = results.data as Record<
    string,
    { source: string; train: number; test: number; maxLength: number }
  >;
  return c.tasks.map((t) => {
    const p = c.plans[t];
    const d = data[t];
    return `${TASK_TITLES[t]}: ${d ? `${d.source}, ${d.train} train / ${d.test} test examples, up to ${d.maxLength} tokens; ` : ''}${p.layers} layers of ${p.modelDim} (${p.heads} heads, FFN ${p.ffnDim}, MLP ${p.mlpDim}, ${p.pooling} pooling), ${p.steps} steps of ${p.batch}, lr ${p.lr.toPrecision(3)} (warmup ${p.warmupSteps}, cosine), SPE R = ${p.speRealizations}`;
  });
}
