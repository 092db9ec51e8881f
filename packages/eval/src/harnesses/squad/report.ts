/**
 * The SQuAD task's report: EM and F1 per method (mean ± std over seeds) with the published
 * BERT-base figures beside them as what they are, F1 by context length (table and chart), the
 * SQuAD 2.0 breakdown when the dev set has unanswerable questions, and the data's facts.
 */
import { chartLegend, type LineChart } from '../../report/charts.js';
import { formatFigure } from '../../report/format.js';
import { cellsByMethod, metricTable } from '../../report/metric-table.js';
import type { ReportSection } from '../../report/sections.js';
import type { BenchResults } from '../../run/results.js';
import { summarizeSeeds } from '../../run/stats.js';
import { SQUAD_REFERENCES, type SquadConfig } from './config.js';
import type { SquadDataFacts } from './data.js';
import { lengthBuckets, squadMetrics, type SquadDetails } from './evaluate.js';

type SquadResults = BenchResults<SquadConfig>;
const facts = (r: SquadResults) => r.data as unknown as SquadDataFacts;

function lengthChart(results: SquadResults): LineChart {
  const buckets = lengthBuckets(results.config);
  // A bucket is drawn at its upper edge; the open last one one step past the last edge.
  const xOf = (i: number) => {
    const b = buckets[i]!;
    return b.to === Infinity
      ? b.from + (buckets.length > 1 ? b.from - buckets[i - 1]!.from : b.from)
      : b.to;
  };
  return {
    title: 'F1 by context length',
    xTitle: 'context length (characters, bucket upper edge)',
    yTitle: 'F1 (%)',
    xScale: 'linear',
    xTicks: buckets.map((_, i) => xOf(i)),
    series: [...cellsByMethod(results)].map(([method, cells]) => ({
      name: method,
      points: buckets.flatMap((b, i) => {
        const values = cells
          .map((c) => c.metrics[b.key])
          .filter((v): v is number => v !== undefined);
        if (!values.length) return [];
        const s = summarizeSeeds(values);
        return [{ x: xOf(i), y: s.mean, ...(s.std !== undefined && { std: s.std }) }];
      }),
    })),
    references: [],
    spread: 'bars',
    markPoints: true,
  };
}

export function squadReport(results: SquadResults): ReportSection[] {
  const f = facts(results);
  const metrics = squadMetrics(results.config);
  const chart = lengthChart(results);
  const first = [...cellsByMethod(results).values()][0]?.[0];
  const bucketCounts = (first?.details as unknown as SquadDetails | undefined)?.bucketQuestions;
  const sections: ReportSection[] = [
    {
      title: 'Exact match and F1',
      paragraphs: [
        `Extractive question answering on ${f.dev.source} (${f.dev.questions} questions, SQuAD ${f.dev.version}), scored as the official evaluate-v${f.dev.version}.py scores; the same encoder for every method, only the position method differs. Higher is better.`,
      ],
      table: metricTable(results, metrics.slice(0, 2)),
    },
    {
      title: 'Published reference figures (not comparable)',
      paragraphs: [
        'Huang et al. 2020 (Improve Transformer Models with Better Relative Position Embeddings), their published BERT-base checkpoints pretrained on Wikipedia and BookCorpus and fine-tuned on SQuAD 1.1, dev set. Printed for scale only: a 12-layer pretrained model on the official data, not the model or data of this run.',
      ],
      table: {
        head: ['method', 'model', 'EM', 'F1'],
        textColumns: [1],
        rows: SQUAD_REFERENCES.map((r) => [
          { text: r.method },
          { text: r.what },
          { text: r.em.toFixed(2) },
          { text: r.f1.toFixed(2) },
        ]),
      },
    },
    {
      title: 'F1 by context length',
      paragraphs: [
        `F1 of the questions whose context has that many characters${
          bucketCounts
            ? ` (questions per bucket: ${lengthBuckets(results.config)
                .map((b) => `${b.title}: ${bucketCounts[b.key] ?? 0}`)
                .join(', ')})`
            : ''
        }.`,
      ],
      table: metricTable(results, metrics.slice(2)),
      figure: {
        chart,
        caption: `F1 against context length; higher is better. ${chartLegend(chart)}`,
      },
    },
  ];
  const v2 = [...cellsByMethod(results)].filter(
    ([, cells]) => (cells[0]!.details as unknown as SquadDetails).version === '2.0',
  );
  if (v2.length) {
    const keys = ['HasAns_exact', 'HasAns_f1', 'NoAns_exact', 'NoAns_f1'];
    sections.push({
      title: 'SQuAD 2.0: answerable and unanswerable questions',
      paragraphs: [
        `Mean over seeds of the official script's breakdown; no answer is predicted when the null score beats the best span by more than ${results.config.nullThreshold}.`,
      ],
      table: {
        head: ['method', ...keys],
        rows: v2.map(([method, cells]) => [
          { text: method },
          ...keys.map((k) => {
            const values = cells
              .map((c) => (c.details as unknown as SquadDetails).official[k])
              .filter((v): v is number => v !== undefined);
            return { text: values.length ? formatFigure(summarizeSeeds(values).mean) : '—' };
          }),
        ]),
      },
    });
  }
  const skipped = [f.train, f.dev].filter((s) => s.skipped > 0);
  if (skipped.length)
    sections.push({
      title: 'Questions skipped',
      paragraphs: [
        'Questions the reader could not use (an answer offset that does not match its context, a missing field), with the first reasons; a skipped dev question is answered "" and scored.',
      ],
      bullets: skipped.flatMap((s) => [
        `${s.source}: ${s.skipped} of ${s.questions}`,
        ...s.skippedExamples.slice(0, 5).map((e) => `  ${e.id}: ${e.reason}`),
      ]),
    });
  return sections;
}

export function squadRunFacts(results: SquadResults): string[] {
  const c = results.config;
  const f = facts(results);
  const m = c.model;
  return [
    `Data: train ${f.train.source} (${f.train.usable} usable of ${f.train.questions} questions, ${f.train.windows} windows), dev ${f.dev.source} (${f.dev.questions} questions, ${f.dev.windows} windows)${f.embedded ? '; the embedded set is written to the run folder as train.json and dev.json (SQuAD v1.1 format)' : ''}.`,
    `Tokenizer: ${f.tokenizer.description}.`,
    `Inputs: [CLS] question (≤ ${c.maxQuestion} tokens) [SEP] context window [SEP], ${c.maxLength} tokens, windows ${c.docStride} tokens apart; positions: ${c.windowPositions === 'document' ? 'a context token keeps its position in the whole context (windows keep their offset)' : '0…N−1 in every window'}; largest position ${f.maxPositions - 1}.`,
    c.init
      ? `Model: started from ${c.init} (--init), with a new span head.`
      : `Model: encoder, ${m.layers} layers, d = ${m.modelDim}, ${m.heads} heads, FFN ${m.ffnDim}, pre-LN, token-type embeddings, BERT's span head; per seed the same initialisation for every method.`,
    `Training: ${c.steps} steps of ${c.batch} windows, AdamW lr ${c.lr} with warmup and cosine decay; loss = mean of the start and end cross-entropies; a window without the answer targets [CLS].`,
    `Decoding: ${c.nBest}-best starts and ends per window, answers of at most ${c.maxAnswerLength} tokens, the best span over the windows mapped back to the context's characters.`,
  ];
}
