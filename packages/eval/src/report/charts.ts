/**
 * The report's charts as Vega-Lite specs, compiled to Vega and rendered to SVG headless (Vega's
 * `renderer: 'none'` view draws SVG without a canvas).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { BenchResults } from '../bench/results.js';
import type { EvalMode } from '../lm/windows.js';
import { MODE_TITLES } from './tables.js';

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Perplexity against evaluation length, one line per method, the training length marked. */
export function perplexityChart(results: BenchResults, mode: EvalMode): TopLevelSpec {
  const values = results.methods.flatMap((m) =>
    m.evaluations
      .filter((e) => e.mode === mode && Number.isFinite(e.perplexity))
      .map((e) => ({ method: m.method, length: e.length, perplexity: e.perplexity })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Perplexity per token, ${MODE_TITLES[mode]}`,
    width: 420,
    height: 300,
    layer: [
      {
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x: {
            field: 'length',
            type: 'quantitative',
            scale: { type: 'log', base: 2 },
            axis: { values: results.config.evalLengths, title: 'evaluation length (tokens)' },
          },
          y: {
            field: 'perplexity',
            type: 'quantitative',
            scale: { zero: false },
            title: 'perplexity',
          },
          color: { field: 'method', type: 'nominal', sort: results.methods.map((m) => m.method) },
          tooltip: [
            { field: 'method' },
            { field: 'length' },
            { field: 'perplexity', format: '.3f' },
          ],
        },
      },
      {
        data: {
          values: [
            { length: results.config.trainLength, label: `L = ${results.config.trainLength}` },
          ],
        },
        mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
        encoding: { x: { field: 'length', type: 'quantitative' } },
      },
    ],
  };
}

/** Training loss per step, averaged over windows of steps, one line per method. */
export function lossChart(results: BenchResults): TopLevelSpec {
  const values = results.methods.flatMap((m) =>
    smoothLosses(m.training.lossHistory).map((p) => ({ method: m.method, ...p })),
  );
  // The first steps fall from ln(vocabulary); show from just above the unigram entropy down,
  // where the methods differ.
  const lowest = Math.min(...values.map((v) => v.loss));
  const top = Math.max(results.corpus.trainUnigramEntropy * 1.2, lowest + 0.1);
  const domain = [Math.max(0, lowest - 0.05), top];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Training loss (nats per token)',
    width: 420,
    height: 300,
    layer: [
      {
        data: { values },
        mark: { type: 'line', clip: true },
        encoding: {
          x: { field: 'step', type: 'quantitative', title: 'step' },
          y: { field: 'loss', type: 'quantitative', scale: { domain }, title: 'loss' },
          color: { field: 'method', type: 'nominal', sort: results.methods.map((m) => m.method) },
        },
      },
      {
        data: { values: [{ loss: results.corpus.trainUnigramEntropy }] },
        mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
        encoding: { y: { field: 'loss', type: 'quantitative' } },
      },
    ],
  };
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
