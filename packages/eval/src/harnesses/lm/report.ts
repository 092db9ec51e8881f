/**
 * The LM harness's report sections: the extrapolation tables (rows methods, columns evaluation
 * lengths, mean ± std over seeds) and charts per evaluation mode, the WikiText word-level table,
 * and the facts of the run. Training, procedures, what did not run and the run's facts follow
 * from the shared sections.
 */
import type { ReferenceLine } from '../../report/charts.js';
import { chartLegend, type LineChart } from '../../report/charts.js';
import { formatFigure } from '../../report/format.js';
import { cellsByMethod, metricTable } from '../../report/metric-table.js';
import type { ReportSection } from '../../report/sections.js';
import type { BenchResults } from '../../run/results.js';
import { summarizeSeeds } from '../../run/stats.js';
import type { LMConfig } from './config.js';
import type { LMDataFacts } from './data.js';
import {
  lmMetrics,
  metricKey,
  MODE_TITLES,
  NOT_SCORED_REASON,
  scoredAt,
  type LMDetails,
} from './evaluate.js';
import { EVAL_MODES, type EvalMode } from './evaluation/windows.js';

type LMResults = BenchResults<LMConfig>;

const facts = (results: LMResults) => results.data as unknown as LMDataFacts;

export function perplexityChart(results: LMResults, mode: EvalMode): LineChart {
  const { evalLengths, trainLength } = results.config;
  return {
    title: `Perplexity per token, ${MODE_TITLES[mode]}`,
    xTitle: 'evaluation length (tokens)',
    yTitle: 'perplexity per token',
    xScale: 'log2',
    xTicks: evalLengths,
    series: [...cellsByMethod(results)].map(([method, cells]) => ({
      name: method,
      points: evalLengths.flatMap((length) => {
        const values = cells
          .map((c) => c.metrics[metricKey(mode, length)])
          .filter((v): v is number => v !== undefined && Number.isFinite(v));
        if (!values.length) return [];
        const s = summarizeSeeds(values);
        return [{ x: length, y: s.mean, ...(s.std !== undefined && { std: s.std }) }];
      }),
    })),
    references: [
      {
        axis: 'x',
        value: trainLength,
        label: `L = ${trainLength}`,
        meaning: 'the training length; lengths to its right are extrapolation',
      },
    ],
    spread: 'bars',
    markPoints: true,
  };
}

function modeSection(results: LMResults, mode: EvalMode): ReportSection {
  const { evalLengths, trainLength } = results.config;
  const metrics = lmMetrics(results.config, [mode]);
  const skipped = evalLengths.filter((length) => !scoredAt(mode, length, trainLength));
  const notes = [...cellsByMethod(results)]
    .map(([method, cells]) => [
      method,
      (cells[0]!.details as unknown as LMDetails).evalModeNotes?.[mode],
    ])
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([method, note]) => `${method}: ${note}`);
  const notScored = skipped.length
    ? [
        `n/a at ${skipped.join(', ')} (past L = ${trainLength}) for every method: ${NOT_SCORED_REASON[mode] ?? 'not scored there'}.`,
      ]
    : [];
  // A chart needs two lengths at least.
  const chart = metrics.length > 1 ? perplexityChart(results, mode) : undefined;
  return {
    title: `Perplexity, ${MODE_TITLES[mode]}`,
    ...(notScored.length && { paragraphs: notScored }),
    ...(metrics.length && { table: metricTable(results, metrics) }),
    ...(notes.length && { bullets: notes }),
    ...(chart && {
      figure: {
        chart,
        caption: `Perplexity per token against evaluation length (log scale), ${MODE_TITLES[mode]}; lower is better. ${chartLegend(chart)}`,
      },
    }),
  };
}

function wordLevelSection(results: LMResults): ReportSection | undefined {
  const words = facts(results).evaluation.words;
  if (words === undefined) return undefined;
  const { evalLengths, trainLength } = results.config;
  const byMethod = [...cellsByMethod(results)];
  return {
    title: 'Word-level perplexity (WikiText protocol)',
    paragraphs: [
      `exp(total NLL / ${words} words and end-of-line tokens), nonoverlapping windows, mean over seeds:`,
    ],
    table: {
      head: ['method', ...evalLengths.map((l) => `${l}${l === trainLength ? ' (= L)' : ''}`)],
      rows: byMethod.map(([method, cells]) => [
        { text: method },
        ...evalLengths.map((length) => {
          const values = cells.flatMap((c) => {
            const e = (c.details as unknown as LMDetails).evaluations.find(
              (x) => x.mode === 'nonoverlapping' && x.length === length,
            );
            return e?.wordPerplexity !== undefined ? [e.wordPerplexity] : [];
          });
          return { text: values.length ? formatFigure(summarizeSeeds(values).mean) : '—' };
        }),
      ]),
    },
  };
}

/** Mean over a method's cells of a per-cell figure, or undefined where a cell lacks it. */
function meanOf(values: (number | undefined)[]): number | undefined {
  if (!values.length || values.some((v) => v === undefined)) return undefined;
  return summarizeSeeds(values as number[]).mean;
}

/**
 * Training and evaluation throughput per method, and each against the run's first method: the
 * cells of a run share the machine one after another, so the ratios are what the load lets
 * compare (Shortformer's claim is speed, §5–6).
 */
function speedSection(results: LMResults): ReportSection | undefined {
  const byMethod = [...cellsByMethod(results)];
  if (!byMethod.length) return undefined;
  const L = results.config.trainLength;
  const evalRate = (cells: BenchResults['cells'], mode: EvalMode) =>
    meanOf(
      cells.map((c) => {
        const e = (c.details as unknown as LMDetails).evaluations.find(
          (x) => x.mode === mode && x.length === L,
        );
        return e && e.wallMs > 0 ? e.tokens / (e.wallMs / 1000) : undefined;
      }),
    );
  const rates = byMethod.map(([method, cells]) => ({
    method,
    train: meanOf(cells.map((c) => c.training.unitsPerSecond)),
    ...Object.fromEntries(EVAL_MODES.map((mode) => [mode, evalRate(cells, mode)])),
  })) as ({ method: string; train?: number } & Partial<Record<EvalMode, number>>)[];
  const peer = rates[0]!;
  const figure = (value: number | undefined, base: number | undefined) =>
    value === undefined
      ? '—'
      : `${Math.round(value)}${base !== undefined && base > 0 ? ` (${(value / base).toFixed(2)}×)` : ''}`;
  return {
    title: 'Speed',
    paragraphs: [
      `Tokens per second: training (every step, mean over seeds) and scored evaluation tokens at L = ${L} in each mode; in brackets against ${peer.method}, the run's first method. Cells run one after another on a shared machine, so a ratio carries the load's changes between them.`,
    ],
    table: {
      head: ['method', 'training tok/s', ...EVAL_MODES.map((m) => `${MODE_TITLES[m]} tok/s`)],
      rows: rates.map((r) => [
        { text: r.method },
        { text: figure(r.train, peer.train) },
        ...EVAL_MODES.map((m) => ({ text: figure(r[m], peer[m]) })),
      ]),
    },
  };
}

export function lmReport(results: LMResults): ReportSection[] {
  const intro: ReportSection = {
    title: 'What is compared',
    paragraphs: [
      `Perplexity per token on held-out text at each evaluation length (columns) for a model trained at L = ${results.config.trainLength} with each position method (rows); lower is better.`,
    ],
  };
  const sections = [intro, ...EVAL_MODES.map((mode) => modeSection(results, mode))];
  const words = wordLevelSection(results);
  if (words) sections.push(words);
  const speed = speedSection(results);
  if (speed) sections.push(speed);
  return sections;
}

export function lmLossReferences(results: LMResults): ReferenceLine[] {
  const h = facts(results).corpus.trainUnigramEntropy;
  return [
    {
      axis: 'y',
      value: h,
      label: `H = ${h.toFixed(2)}`,
      meaning: 'the unigram entropy of the training split, the loss of a model without context',
    },
  ];
}

export function lmRunFacts(results: LMResults): string[] {
  const c = results.config;
  const m = c.model;
  const f = facts(results);
  const e = f.evaluation;
  const stride = `stride ${c.strideRatio === 0.5 ? 'L/2' : `${c.strideRatio}·L`}`;
  return [
    `Corpus: ${f.corpus.description}.`,
    `Tokenizer: ${f.tokenizer.description}.`,
    `Model: decoder-only, ${m.layers} layers, d = ${m.modelDim}, ${m.heads} heads, FFN ${m.ffnDim}, pre-LN, tied embeddings; per seed the same initialisation for every method.`,
    `Training: ${c.steps} steps of ${c.batch} × ${c.trainLength} tokens (L = ${c.trainLength}), AdamW lr ${c.lr} with cosine decay, per seed the same windows in the same order for every method on the standard procedure.`,
    `Evaluation: ${e.targets} target tokens of the ${e.split} split${e.wholeSplit ? ' (all of it)' : ` in ${e.segments} segments of ${e.segmentTargets} spread over it`}, the same tokens at every length; perplexity per token = exp(mean NLL); sliding window with ${stride}.`,
    `Reference: a model without context reaches the unigram perplexity exp(H) = ${formatFigure(Math.exp(f.corpus.trainUnigramEntropy))} on the training split.`,
  ];
}
