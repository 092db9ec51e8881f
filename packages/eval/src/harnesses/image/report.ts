/**
 * The image harness's report sections: top-1 and top-5 at every evaluation size (mean ± std over
 * seeds) with a chart of top-1 against the size, what each method costs (images per second in
 * training and evaluation, parameters, iRPE buckets), the paper's DeiT numbers beside ours as
 * the reference they are, and the images that could not be decoded.
 */
import { chartLegend, type LineChart } from '../../report/charts.js';
import { formatFigure } from '../../report/format.js';
import { cellsByMethod, formatSummary, metricTable } from '../../report/metric-table.js';
import type { ReportSection } from '../../report/sections.js';
import type { BenchResults } from '../../run/results.js';
import { summarizeSeeds } from '../../run/stats.js';
import type { ImageConfig } from './config.js';
import type { ImageDataFacts } from './data/image-data.js';
import { accuracyMetrics, EVAL_SPEED_KEY, topKey, type ImageDetails } from './evaluate.js';

type ImageResults = BenchResults<ImageConfig>;

const facts = (results: ImageResults) => results.data as unknown as ImageDataFacts;
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/**
 * Wu et al. 2021, Table 5: ImageNet-1K top-1 at 224², 300 epochs, DeiT's recipe; "+ iRPE-K" is
 * the contextual product table on keys shared by the heads (50 buckets), with DeiT's learned
 * absolute encoding kept.
 */
export const PAPER_REFERENCE = [
  { model: 'DeiT-Ti', baseline: 72.2, withIrpe: 73.7 },
  { model: 'DeiT-S', baseline: 79.9, withIrpe: 80.9 },
  { model: 'DeiT-B', baseline: 81.8, withIrpe: 82.4 },
] as const;

function accuracyChart(results: ImageResults): LineChart {
  const { evalSizes, imageSize } = results.config;
  return {
    title: 'Top-1 accuracy against evaluation size',
    xTitle: 'evaluation size (pixels)',
    yTitle: '% top-1',
    xScale: 'linear',
    xTicks: evalSizes,
    series: [...cellsByMethod(results)].map(([method, cells]) => ({
      name: method,
      points: evalSizes.flatMap((size) => {
        const values = cells
          .map((c) => c.metrics[topKey(1, size)])
          .filter((v): v is number => v !== undefined && Number.isFinite(v));
        if (!values.length) return [];
        const s = summarizeSeeds(values);
        return [{ x: size, y: s.mean, ...(s.std !== undefined && { std: s.std }) }];
      }),
    })),
    references: [
      {
        axis: 'x',
        value: imageSize,
        label: `train ${imageSize}px`,
        meaning: 'the training size; sizes to its right are resolution extrapolation',
      },
    ],
    spread: 'bars',
    markPoints: true,
  };
}

function costSection(results: ImageResults): ReportSection {
  return {
    title: 'Cost',
    table: {
      head: ['method', 'n', 'train img/s', 'eval img/s', 'parameters', 'iRPE buckets per table'],
      rows: [...cellsByMethod(results)].map(([method, cells]) => {
        const buckets = (cells[0]!.details as unknown as ImageDetails).buckets;
        return [
          { text: method },
          { text: String(cells.length) },
          { text: String(Math.round(mean(cells.map((c) => c.training.unitsPerSecond)))) },
          {
            text: formatSummary(
              summarizeSeeds(cells.map((c) => c.metrics[EVAL_SPEED_KEY] ?? NaN)),
              (v) => String(Math.round(v)),
            ),
          },
          { text: String(cells[0]!.training.parameters) },
          { text: buckets ? buckets.join(' + ') : '—' },
        ];
      }),
      legend: [
        `Images per second: training over the whole cell (data pipeline included), evaluation at ${results.config.imageSize}px; means over seeds. iRPE buckets include the skip tokens' one; cross has a row and a column table.`,
      ],
    },
  };
}

function referenceSection(results: ImageResults): ReportSection {
  const at = topKey(1, results.config.imageSize);
  const ours = (method: string) => {
    const values = (cellsByMethod(results).get(method) ?? [])
      .map((c) => c.metrics[at])
      .filter((v): v is number => v !== undefined);
    return values.length ? summarizeSeeds(values) : undefined;
  };
  const learned = ours('learned');
  const irpe = ours('irpe');
  const rows = PAPER_REFERENCE.map((r) => [
    { text: `${r.model}, ImageNet-1K 224px (paper)` },
    { text: formatFigure(r.baseline) },
    { text: formatFigure(r.withIrpe) },
    { text: `+${formatFigure(r.withIrpe - r.baseline)}` },
  ]);
  if (learned && irpe)
    rows.push([
      {
        text: `this run, ${facts(results).description.split(' (')[0]} ${results.config.imageSize}px`,
      },
      { text: formatSummary(learned) },
      { text: formatSummary(irpe) },
      {
        text: `${irpe.mean - learned.mean >= 0 ? '+' : ''}${formatFigure(irpe.mean - learned.mean)}`,
      },
    ]);
  return {
    title: "The paper's reference",
    paragraphs: [
      'Wu et al. 2021 (Table 5) report top-1 on ImageNet-1K for DeiT with its learned absolute encoding and with iRPE-K (contextual product tables on keys, shared by the heads, 50 buckets) added: the figures below are theirs, for their models, data and 300-epoch training, printed as the reference they are, not as a target this run could reach. This run compares `learned` with `irpe` (which keeps `learned` beside it) on its own data and scale.',
    ],
    table: { head: ['', 'learned absolute', '+ iRPE-K', 'difference'], rows },
  };
}

export function imageReport(results: ImageResults): ReportSection[] {
  const chart = accuracyChart(results);
  const sections: ReportSection[] = [
    {
      title: 'What is compared',
      paragraphs: [
        `Top-1 and top-5 accuracy (%) on held-out images at each evaluation size (columns) for the same ViT trained at ${results.config.imageSize}px with each position method (rows); higher is better. Sizes above the training size give more patches than the model was trained on: resolution extrapolation.`,
      ],
    },
    {
      title: 'Top-1 accuracy',
      table: metricTable(results, accuracyMetrics(results.config, 1)),
      figure: {
        chart,
        caption: `Top-1 accuracy against the evaluation size. ${chartLegend(chart)}`,
      },
    },
    { title: 'Top-5 accuracy', table: metricTable(results, accuracyMetrics(results.config, 5)) },
    costSection(results),
    referenceSection(results),
  ];
  const skipped = facts(results).skipped;
  if (skipped.length)
    sections.push({
      title: 'Images skipped',
      paragraphs: [`${skipped.length} image file(s) could not be decoded and were left out:`],
      bullets: skipped.slice(0, 50).map((s) => `${s.name}: ${s.reason}`),
    });
  return sections;
}

export function imageRunFacts(results: ImageResults): string[] {
  const c = results.config;
  const m = c.model;
  const f = facts(results);
  const grid = c.imageSize / m.patchSize;
  return [
    `Data: ${f.description}; ${f.classes} classes, ${f.train} training images${f.available.train > f.train ? ` (of ${f.available.train})` : ''}, ${f.val} evaluation images${f.available.val > f.val ? ` (of ${f.available.val})` : ''} (val/ by ${f.valLabelling})${f.skipped.length ? `; ${f.skipped.length} skipped as undecodable` : ''}; decoded and resized with transformers.js's RawImage (sharp), ${c.channels === 1 ? 'grayscale' : 'RGB'}, normalised with mean ${c.mean.join(', ')} and std ${c.std.join(', ')}.`,
    `Model: ViT (DeiT layout), patch ${m.patchSize}, ${grid}×${grid} patches + a class token at ${c.imageSize}px, ${m.layers} layers, d = ${m.modelDim}, ${m.heads} heads, FFN ${m.ffnDim}, pre-LN, ${m.init === 'xavier' ? 'Glorot-uniform' : 'timm (normal, std 0.02)'} linear weights; per seed the same initialisation for every method.`,
    `Training: ${c.steps} steps of ${c.batch} images, AdamW lr ${c.lr} (warmup over a tenth of the steps, cosine decay to 1%), weight decay ${c.weightDecay}; random-resized crops (scale ${c.cropScale}…1, aspect 3/4…4/3) to ${c.imageSize}px${c.flip ? ', horizontal flips' : ''}; per seed the same images, crops and order for every method.`,
    `Evaluation: at ${c.evalSizes.join(', ')}px, the shorter side resized to size / ${c.evalCrop}, then the centre crop.`,
  ];
}
