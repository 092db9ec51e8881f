/**
 * The reports' charts: lines of a figure against a quantity (perplexity against evaluation
 * length, loss against step), one per method, with the spread over seeds as error bars or a
 * band, and reference lines drawn inside the plot with a label. The axes are chosen here rather
 * than zoomed to the data by Vega: they include every reference line and every error bar, and
 * span at least a fifth of the largest value, so a difference of a few thousandths draws as the
 * flat line it is instead of filling the plot. Compiled by Vega-Lite and drawn to SVG headless.
 */
import type { TopLevelSpec } from 'vega-lite';

export interface ChartPoint {
  x: number;
  /** Mean over seeds. */
  y: number;
  /** Sample standard deviation over seeds, when there are at least two. */
  std?: number;
}

export interface ChartSeries {
  name: string;
  points: ChartPoint[];
}

export interface ReferenceLine {
  axis: 'x' | 'y';
  value: number;
  /** Drawn beside the line: `L = 64`. */
  label: string;
  /** What the line is, for the caption. */
  meaning: string;
}

export interface LineChart {
  title: string;
  xTitle: string;
  yTitle: string;
  xScale: 'linear' | 'log2';
  /** Ticks of the x axis (the evaluation lengths); Vega chooses when absent. */
  xTicks?: number[];
  series: ChartSeries[];
  references: ReferenceLine[];
  /** Spread as error bars at the points (few x values) or as a band (curves). */
  spread: 'bars' | 'band';
  /** Dots at the points (few x values). */
  markPoints: boolean;
}

/** Share of the largest |value| the y axis spans at least. */
export const MIN_RELATIVE_SPAN = 0.2;
const WIDTH = 600;
const HEIGHT = 340;

/** The y range: every mean ± std and every y reference, widened to the minimum span. */
export function yDomain(chart: LineChart): [number, number] {
  const values: number[] = [];
  for (const s of chart.series)
    for (const p of s.points)
      if (Number.isFinite(p.y)) values.push(p.y - (p.std ?? 0), p.y + (p.std ?? 0));
  for (const r of chart.references) if (r.axis === 'y') values.push(r.value);
  if (values.length === 0) return [0, 1];
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  const span = Math.max(hi - lo, MIN_RELATIVE_SPAN * Math.max(Math.abs(lo), Math.abs(hi)), 1e-9);
  const pad = (span - (hi - lo)) / 2 + span * 0.05;
  lo -= pad;
  hi += pad;
  // Figures that cannot be negative (perplexity, loss) keep a non-negative axis.
  if (Math.min(...values) >= 0 && lo < 0) {
    hi -= lo;
    lo = 0;
  }
  return [lo, hi];
}

/**
 * The x range: every point and every x reference, with a margin so that a reference line at the
 * first point (the training length) is drawn inside the plot rather than on its axis.
 */
export function xDomain(chart: LineChart): [number, number] {
  const xs = chart.series.flatMap((s) => s.points.map((p) => p.x));
  for (const r of chart.references) if (r.axis === 'x') xs.push(r.value);
  if (chart.xTicks) xs.push(...chart.xTicks);
  if (xs.length === 0) return [0, 1];
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  if (chart.xScale === 'log2') return [lo / 2 ** 0.25, hi * 2 ** 0.25];
  const margin = chart.references.some((r) => r.axis === 'x') ? 0.03 * (hi - lo || 1) : 0;
  return [lo - margin, hi + margin];
}

export function chartSpec(chart: LineChart): TopLevelSpec {
  const names = chart.series.map((s) => s.name);
  // Error bars of several methods at one length would hide each other: each series is drawn a
  // little to the side (a few percent of an octave); tooltips keep the true x.
  const dodge = (x: number, index: number) => {
    if (chart.spread !== 'bars' || names.length < 2) return x;
    const shift = (index - (names.length - 1) / 2) * (0.3 / names.length);
    return chart.xScale === 'log2'
      ? x * 2 ** (shift / 2)
      : x + shift * 0.02 * (xDomain(chart)[1] - xDomain(chart)[0]);
  };
  const values = chart.series.flatMap((s, index) =>
    s.points
      .filter((p) => Number.isFinite(p.y))
      .map((p) => ({
        series: s.name,
        x: dodge(p.x, index),
        length: p.x,
        y: p.y,
        lo: p.y - (p.std ?? 0),
        hi: p.y + (p.std ?? 0),
        hasSpread: p.std !== undefined,
      })),
  );
  const [y0, y1] = yDomain(chart);
  const [x0, x1] = xDomain(chart);
  const x = {
    field: 'x',
    type: 'quantitative' as const,
    scale:
      chart.xScale === 'log2'
        ? { type: 'log' as const, base: 2, domain: [x0, x1] }
        : { domain: [x0, x1] },
    axis: { title: chart.xTitle, ...(chart.xTicks && { values: chart.xTicks }) },
  };
  const y = {
    field: 'y',
    type: 'quantitative' as const,
    scale: { domain: [y0, y1], nice: false, zero: false },
    axis: { title: chart.yTitle },
  };
  const color = { field: 'series', type: 'nominal' as const, sort: names, title: 'method' };
  const spreadLayer =
    chart.spread === 'bars'
      ? {
          transform: [{ filter: 'datum.hasSpread' }],
          name: 'spread',
          mark: { type: 'rule' as const, strokeWidth: 1.5 },
          encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color },
        }
      : {
          name: 'spread',
          mark: { type: 'area' as const, opacity: 0.18 },
          // The legend is drawn from the lines, not from these faint bands.
          encoding: {
            x,
            y: { ...y, field: 'lo' },
            y2: { field: 'hi' },
            color: { ...color, legend: null },
          },
        };
  const references = chart.references.map((r) => {
    const inside = r.axis === 'x' ? { x: r.value, y: y1 } : { x: x1, y: r.value };
    return {
      data: { values: [{ ...inside, label: r.label }] },
      layer: [
        {
          mark: { type: 'rule' as const, strokeDash: [5, 4], color: '#555', strokeWidth: 1.2 },
          encoding:
            r.axis === 'x'
              ? { x: { field: 'x', type: 'quantitative' as const } }
              : { y: { field: 'y', type: 'quantitative' as const } },
        },
        {
          mark: {
            type: 'text' as const,
            color: '#333',
            fontSize: 12,
            // Inside the plot: below the top edge for a vertical line, above a horizontal one at the right.
            ...(r.axis === 'x'
              ? { align: 'left' as const, baseline: 'top' as const, dx: 4, dy: 4 }
              : { align: 'right' as const, baseline: 'bottom' as const, dx: -4, dy: -3 }),
          },
          encoding: {
            x: { field: 'x', type: 'quantitative' as const },
            y: { field: 'y', type: 'quantitative' as const },
            text: { field: 'label' },
          },
        },
      ],
    };
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: chart.title,
    width: WIDTH,
    height: HEIGHT,
    config: {
      font: 'system-ui, sans-serif',
      title: { fontSize: 15 },
      axis: { labelFontSize: 12, titleFontSize: 13 },
      legend: { labelFontSize: 12, titleFontSize: 13, labelLimit: 260 },
    },
    // Every layer shares the x and y scales set above, so the references sit on the data's axes.
    resolve: { scale: { x: 'shared', y: 'shared' } },
    layer: [
      {
        data: { values },
        layer: [
          spreadLayer,
          {
            mark: { type: 'line' as const, point: chart.markPoints, clip: true },
            encoding: {
              x,
              y,
              color,
              tooltip: [
                { field: 'series', title: 'method' },
                { field: 'length', title: chart.xTitle },
                { field: 'y', title: chart.yTitle, format: '.4g' },
              ],
            },
          },
        ],
      },
      ...references,
    ],
  } as TopLevelSpec;
}

export async function renderSvg(chart: LineChart): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vegaLite.compile(chartSpec(chart)).spec), {
    renderer: 'none',
  });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The caption's sentence on the reference lines and the spread. */
export function chartLegend(chart: LineChart): string {
  const parts = chart.references.map((r) => `Dashed line ${r.label}: ${r.meaning}`);
  const seeds = chart.series.some((s) => s.points.some((p) => p.std !== undefined));
  if (seeds)
    parts.push(
      chart.spread === 'bars'
        ? 'Bars: ± one sample standard deviation over seeds around the mean'
        : 'Shaded: ± one sample standard deviation over seeds around the mean',
    );
  return parts.length ? `${parts.join('. ')}.` : '';
}

/** Mean loss over consecutive windows (about 50 points per curve); x is the window's last step. */
export function smoothLosses(
  losses: readonly number[],
  points = 50,
): { step: number; loss: number }[] {
  const window = Math.max(1, Math.ceil(losses.length / points));
  const out: { step: number; loss: number }[] = [];
  for (let start = 0; start < losses.length; start += window) {
    const slice = losses.slice(start, start + window);
    out.push({ step: start + slice.length, loss: slice.reduce((a, b) => a + b, 0) / slice.length });
  }
  return out;
}
