/**
 * The report sections every task has: training (final loss, throughput, time, parameters, and
 * the loss curves), the methods with their papers and procedures, what did not run and why,
 * and the facts of the run (engine, machine, versions).
 */
import type { BenchResults } from '../run/results.js';
import { summarizeSeeds } from '../run/stats.js';
import { smoothLosses, type ChartSeries, type LineChart, type ReferenceLine } from './charts.js';
import { chartLegend } from './charts.js';
import { formatSeconds } from './format.js';
import { cellsByMethod, formatSummary } from './metric-table.js';
import type { ReportSection } from './sections.js';

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** Training loss per step, smoothed, the mean over seeds per method. */
export function lossChart(
  results: BenchResults,
  references: ReferenceLine[],
  unit: string,
): LineChart {
  const series: ChartSeries[] = [...cellsByMethod(results)].map(([method, cells]) => {
    const curves = cells.map((c) => smoothLosses(c.training.lossHistory));
    const length = Math.min(...curves.map((c) => c.length));
    return {
      name: method,
      points: Array.from({ length }, (_, i) => {
        const s = summarizeSeeds(curves.map((c) => c[i]!.loss));
        return { x: curves[0]![i]!.step, y: s.mean, ...(s.std !== undefined && { std: s.std }) };
      }),
    };
  });
  return {
    title: `Training loss (nats per ${unit})`,
    xTitle: 'step',
    yTitle: `loss (nats per ${unit})`,
    xScale: 'linear',
    series,
    references,
    spread: 'band',
    markPoints: false,
  };
}

export function trainingSection(
  results: BenchResults,
  lossReferences: ReferenceLine[] = [],
): ReportSection {
  const byMethod = [...cellsByMethod(results)];
  const unit = results.cells[0]?.training.unit ?? 'unit';
  const chart = lossChart(results, lossReferences, unit.replace(/s$/, ''));
  return {
    title: 'Training',
    table: {
      head: ['method', 'n', 'final loss', `${unit}/s`, 'training', 'evaluation', 'parameters'],
      rows: byMethod.map(([method, cells]) => {
        const first = cells[0]!;
        const resumed = cells.flatMap((c) => c.training.resumedFrom);
        return [
          { text: method },
          { text: String(cells.length) },
          {
            text: formatSummary(summarizeSeeds(cells.map((c) => c.training.finalLoss)), (v) =>
              v.toFixed(3),
            ),
          },
          { text: String(Math.round(mean(cells.map((c) => c.training.unitsPerSecond)))) },
          {
            text: `${formatSeconds(mean(cells.map((c) => c.training.wallMs)))}${resumed.length ? ` (resumed at step ${resumed.join(', ')})` : ''}`,
          },
          { text: formatSeconds(mean(cells.map((c) => c.evalWallMs))) },
          { text: String(first.training.parameters) },
        ];
      }),
      legend: [
        `Final loss: mean of the last 10% of the steps (± over seeds); ${unit}/s, training and evaluation: means over seeds.`,
      ],
    },
    figure: {
      chart,
      caption: `Training loss, smoothed over windows of steps. ${chartLegend(chart)}`,
    },
  };
}

/** Every method's paper and package, and what its procedure does differently. */
export function methodsSection(results: BenchResults): ReportSection | undefined {
  const firsts = [...cellsByMethod(results)].map(([, cells]) => cells[0]!);
  if (!firsts.length) return undefined;
  return {
    title: 'Methods',
    table: {
      head: ['method', 'paper', 'package'],
      textColumns: [1, 2],
      rows: firsts.map((c) => [{ text: c.method }, { text: c.paper }, { text: c.package }]),
    },
    ...(firsts.some((c) => c.notes.length) && {
      bullets: firsts
        .filter((c) => c.notes.length)
        .map((c) => `**${c.method}**: ${c.description}; ${c.notes.join('; ')}.`),
    }),
  };
}

export function notRunSection(results: BenchResults): ReportSection | undefined {
  const bullets = [
    ...results.unavailable.map((u) => `${u.method} (${u.package}): unavailable — ${u.reason}`),
    ...results.failed.map((f) => `${f.method}, seed ${f.seed}: failed — ${f.error}`),
  ];
  return bullets.length ? { title: 'Not run', bullets } : undefined;
}

export function runSection(results: BenchResults, taskFacts: string[]): ReportSection {
  const m = results.machine;
  return {
    title: 'Run',
    bullets: [
      ...results.warnings.map((w) => `**Warning**: ${w}.`),
      ...taskFacts,
      `Seeds: ${results.seeds.join(', ')} (each seed sets the initialisation and the data order, the same for every method).`,
      `Engine: ${results.engine.engine} (TF.js backend ${results.engine.backend}), ${m.cpus} × ${m.cpuModel}, Node ${m.node}.`,
      `Time over all cells: training ${formatSeconds(results.cells.reduce((t, c) => t + c.training.wallMs, 0))}, evaluation ${formatSeconds(results.cells.reduce((t, c) => t + c.evalWallMs, 0))}.`,
      `This process: ${formatSeconds(results.process.wallMs)}, peak RSS ${results.process.peakRssMB} MB.`,
      `Versions: ${Object.entries(results.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}.`,
    ],
  };
}
