/**
 * A table of a run's metrics: rows are methods, columns metrics, each cell the mean ± sample
 * standard deviation over the method's seeds, with n per row. The best mean of each column is
 * marked, and so is every other cell whose difference to it is smaller than the two spreads
 * (not separated) — with one seed the spread is unknown and only the best is marked.
 */
import type { MetricSpec } from '../run/harness.js';
import type { BenchResults, CellRecord } from '../run/results.js';
import { separated, SEPARATION_RULE, summarizeSeeds, type SeedSummary } from '../run/stats.js';
import { formatFigure, formatSpread } from './format.js';
import type { ReportTable, TableCell } from './sections.js';

export interface MethodSummaries {
  method: string;
  /** Seeds the method finished. */
  n: number;
  /** By metric key; absent when no cell of the method has the metric. */
  metrics: Record<string, SeedSummary | undefined>;
}

/** The cells of each method, in the run's method order (methods without a cell are left out). */
export function cellsByMethod(results: BenchResults): Map<string, CellRecord[]> {
  const out = new Map<string, CellRecord[]>();
  for (const method of results.methods) {
    const cells = results.cells.filter((c) => c.method === method);
    if (cells.length) out.set(method, cells);
  }
  return out;
}

export function summarizeMethods(
  results: BenchResults,
  metrics: readonly MetricSpec[],
): MethodSummaries[] {
  return [...cellsByMethod(results)].map(([method, cells]) => ({
    method,
    n: cells.length,
    metrics: Object.fromEntries(
      metrics.map((m) => {
        const values = cells
          .map((c) => c.metrics[m.key])
          .filter((v): v is number => v !== undefined);
        return [m.key, values.length ? summarizeSeeds(values) : undefined];
      }),
    ),
  }));
}

export function formatSummary(
  s: SeedSummary | undefined,
  format: (value: number) => string = formatFigure,
): string {
  if (!s) return '—';
  return s.std === undefined
    ? format(s.mean)
    : `${format(s.mean)} ± ${formatSpread(s.mean, s.std)}`;
}

function isBetter(spec: MetricSpec, a: number, b: number): boolean {
  return spec.higherIsBetter ? a > b : a < b;
}

export function metricTable(
  results: BenchResults,
  metrics: readonly MetricSpec[],
  format: (value: number) => string = formatFigure,
): ReportTable {
  const rows = summarizeMethods(results, metrics);
  const best = metrics.map((spec) => {
    let top: SeedSummary | undefined;
    for (const r of rows) {
      const s = r.metrics[spec.key];
      if (s && Number.isFinite(s.mean) && (!top || isBetter(spec, s.mean, top.mean))) top = s;
    }
    return top;
  });
  let anySpread = false;
  let anyNotSeparated = false;
  const body: TableCell[][] = rows.map((r) => [
    { text: r.method },
    { text: String(r.n) },
    ...metrics.map((spec, i): TableCell => {
      const s = r.metrics[spec.key];
      const top = best[i];
      if (s?.std !== undefined) anySpread = true;
      const isBest = s !== undefined && top !== undefined && s === top;
      const notSeparated =
        !isBest && s !== undefined && top !== undefined && separated(s, top) === false;
      if (notSeparated) anyNotSeparated = true;
      return {
        text: formatSummary(s, format),
        ...(isBest && { best: true }),
        ...(notSeparated && { notSeparated: true }),
      };
    }),
  ]);
  const direction = metrics.every((m) => !m.higherIsBetter)
    ? 'lower is better'
    : metrics.every((m) => m.higherIsBetter)
      ? 'higher is better'
      : undefined;
  const legend = [
    `Best of each column in bold${direction ? ` (${direction})` : ''}; n: seeds.`,
    anySpread
      ? `mean ± sample standard deviation over the seeds; ≈: ${SEPARATION_RULE} from the column's best.`
      : 'One seed per method: the spread over seeds is unknown, so differences are not tested (run with --seeds 0,1,2).',
  ];
  if (!anyNotSeparated && anySpread) legend[1] += ' Every other cell is separated from its best.';
  return { head: ['method', 'n', ...metrics.map((m) => m.title)], rows: body, legend };
}
