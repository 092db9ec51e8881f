/**
 * The shared reports on made-up results: tables of mean ± std with the best and the
 * not-separated cells marked, charts whose axes include every reference line and do not magnify
 * noise (checked on the SVG Vega draws), and both renderings escaped and complete.
 */
import { describe, expect, it } from 'vitest';
import { lmHarness } from '../harnesses/lm/harness.js';
import { LM_PRESETS } from '../harnesses/lm/presets.js';
import type { LMConfig } from '../harnesses/lm/config.js';
import type { BenchResults, CellRecord } from '../run/results.js';
import { MIN_RELATIVE_SPAN, renderSvg, smoothLosses, yDomain, type LineChart } from './charts.js';
import { markdownTable } from './markdown.js';
import { metricTable } from './metric-table.js';
import { renderReport } from './render.js';

function cell(name: string, seed: number, perplexities: Record<number, number>): CellRecord {
  const evaluations = Object.entries(perplexities).flatMap(([length, p]) =>
    (['nonoverlapping', 'sliding'] as const).map((mode) => ({
      mode,
      length: Number(length),
      tokens: 100,
      nll: 100 * Math.log(p),
      meanNll: Math.log(p),
      perplexity: mode === 'sliding' ? p * 0.9 : p,
      wallMs: 10,
    })),
  );
  return {
    task: 'lm',
    method: name,
    seed,
    description: `${name} <described>`,
    paper: 'Someone 2020',
    package: '@posenc/core',
    notes: [],
    training: {
      steps: 4,
      lossHistory: [5.5, 4, 3.5, 3],
      finalLoss: 3,
      wallMs: 2000,
      resumedFrom: [2],
      parameters: 1000,
      unit: 'tokens',
      units: 256,
      unitsPerSecond: 128,
    },
    metrics: Object.fromEntries(evaluations.map((e) => [`${e.mode}@${e.length}`, e.perplexity])),
    details: { evaluations },
    evalWallMs: 40,
    finishedAt: '2026-01-01T00:00:00.000Z',
  };
}

const config: LMConfig = { ...LM_PRESETS['default']!.config, evalLengths: [64, 128, 256] };

function results(cells: CellRecord[], seeds: number[]): BenchResults<LMConfig> {
  return {
    format: 'posenc-bench/lm/3',
    task: 'lm',
    run: 'lm-test',
    command: 'posenc bench lm --methods a,b --out <dir>',
    config,
    configHash: 'abc',
    methods: ['alibi', 'learned', 'rope'],
    seeds,
    cells,
    failed: [{ method: 't5', seed: 0, error: 'training stopped at step 3: the loss is NaN' }],
    unavailable: [
      { method: 'xpos', package: '@posenc/roformer', reason: '@posenc/roformer is not installed' },
    ],
    warnings: [],
    data: {
      corpus: { spec: 'sotu', description: 'addresses', splits: {}, trainUnigramEntropy: 3.1 },
      tokenizer: { spec: 'bytes', description: 'bytes', vocabSize: 256 },
      evaluation: {
        split: 'test',
        targets: 100,
        segments: 1,
        segmentTargets: 100,
        wholeSplit: false,
      },
    },
    engine: { engine: 'wasm', backend: 'wasm' },
    versions: { '@posenc/core': '0.1.0' },
    machine: { platform: 'linux', arch: 'x64', cpus: 2, cpuModel: 'cpu', node: 'v20' },
    process: { wallMs: 5000, peakRssMB: 300 },
    writtenAt: '2026-01-01T00:00:00.000Z',
  };
}

const oneSeed = results(
  [
    cell('alibi', 0, { 64: 9.5, 128: 9.1, 256: 9.0 }),
    cell('learned', 0, { 64: 9.2, 128: 30.25, 256: 1234.5 }),
  ],
  [0],
);

const nonoverlapping = lmHarness.metrics(config).filter((m) => m.key.startsWith('nonoverlapping'));

describe('metric tables', () => {
  it('one seed: methods as rows, n, lengths as columns, the best of each column in bold', () => {
    expect(markdownTable(metricTable(oneSeed, nonoverlapping))).toBe(
      [
        '| method | n | 64 (= L) | 128 | 256 |',
        '|---|---:|---:|---:|---:|',
        '| alibi | 1 | 9.50 | **9.10** | **9.00** |',
        '| learned | 1 | **9.20** | 30.25 | 1.23e+3 |',
      ].join('\n'),
    );
    expect(metricTable(oneSeed, nonoverlapping).legend!.join(' ')).toContain(
      'spread over seeds is unknown',
    );
  });

  it('seeds: mean ± sample std, and ≈ where a difference is within the spreads', () => {
    const seeded = results(
      [
        cell('alibi', 0, { 64: 9.0, 128: 9.0, 256: 9.0 }),
        cell('alibi', 1, { 64: 9.2, 128: 9.2, 256: 9.2 }),
        // Means 9.15 vs 9.1 with std 0.141 each: within the spreads at 64.
        cell('rope', 0, { 64: 9.05, 128: 12, 256: 20 }),
        cell('rope', 1, { 64: 9.25, 128: 12.2, 256: 20.2 }),
      ],
      [0, 1],
    );
    const table = metricTable(seeded, nonoverlapping);
    expect(markdownTable(table)).toBe(
      [
        '| method | n | 64 (= L) | 128 | 256 |',
        '|---|---:|---:|---:|---:|',
        '| alibi | 2 | **9.10 ± 0.14** | **9.10 ± 0.14** | **9.10 ± 0.14** |',
        '| rope | 2 | 9.15 ± 0.14 ≈ | 12.10 ± 0.14 | 20.10 ± 0.14 |',
      ].join('\n'),
    );
    expect(table.legend!.join(' ')).toContain('≈: not separated');
  });
});

const chart = (references: LineChart['references'], ys: number[]): LineChart => ({
  title: 'c',
  xTitle: 'x',
  yTitle: 'y',
  xScale: 'linear',
  spread: 'bars',
  markPoints: true,
  series: [{ name: 'a', points: ys.map((y, i) => ({ x: i + 1, y })) }],
  references,
});

/** Translations of the dashed reference lines and of their labels in Vega's SVG. */
function referenceGeometry(svg: string) {
  const at = (s: string) =>
    s
      .match(/translate\(([-\d.]+),([-\d.]+)\)/)!
      .slice(1)
      .map(Number);
  const lines = [...svg.matchAll(/<line[^>]*stroke-dasharray="5,4"[^>]*>/g)].map((m) => at(m[0]));
  const labels = [...svg.matchAll(/<text[^>]*>([LH] = [^<]*)<\/text>/g)].map((m) => at(m[0]));
  return { lines, labels };
}

describe('charts', () => {
  it('do not magnify noise: a y axis spans at least a fifth of its largest value', () => {
    const [lo, hi] = yDomain(chart([], [7.2001, 7.2004, 7.2002]));
    expect(hi - lo).toBeGreaterThanOrEqual(MIN_RELATIVE_SPAN * 7.2004);
    const wide = yDomain(chart([], [2, 9]));
    expect(wide[0]).toBeLessThanOrEqual(2);
    expect(wide[1]).toBeGreaterThanOrEqual(9);
  });

  it('draw every reference line and its label inside the plot, far from the data too', async () => {
    const references: LineChart['references'] = [
      { axis: 'y', value: 2.9, label: 'H = 2.90', meaning: 'entropy' },
      { axis: 'x', value: 1.5, label: 'L = 1.5', meaning: 'training length' },
    ];
    const c = chart(references, [7.2, 7.3, 7.25]);
    const [lo, hi] = yDomain(c);
    expect(lo).toBeLessThanOrEqual(2.9);
    expect(hi).toBeGreaterThanOrEqual(7.3);
    const { lines, labels } = referenceGeometry(await renderSvg(c));
    expect(lines).toHaveLength(2);
    expect(labels).toHaveLength(2);
    for (const [x, y] of [...lines, ...labels]) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(600);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(340);
    }
  });

  it('smooths loss curves into window means', () => {
    expect(smoothLosses([1, 2, 3, 4, 5], 2)).toEqual([
      { step: 3, loss: 2 },
      { step: 5, loss: 4.5 },
    ]);
  });
});

describe('reports', () => {
  it('markdown: both modes, training, what did not run and why, the run', async () => {
    const { markdown } = await renderReport(lmHarness, oneSeed);
    expect(markdown).toContain('## Perplexity, nonoverlapping windows');
    expect(markdown).toContain('## Perplexity, sliding window');
    // Sliding windows are scored up to L only; past it the section says n/a and why.
    expect(markdown).toContain(
      'n/a at 128, 256 (past L = 64) for every method: past L a sliding window',
    );
    expect(markdown).toMatch(/## Perplexity, sliding window[^#]*\| method \| n \| 64 \(= L\) \|\n/);
    expect(markdown).toContain('| alibi | 1 | 3.000 | 128 | 2.0 s (resumed at step 2) | 40 ms |');
    expect(markdown).toContain('| alibi | Someone 2020 | @posenc/core |');
    expect(markdown).toContain(
      '- xpos (@posenc/roformer): unavailable — @posenc/roformer is not installed',
    );
    expect(markdown).toContain(
      '- t5, seed 0: failed — training stopped at step 3: the loss is NaN',
    );
    expect(markdown).toContain('exp(H) = 22.20');
  });

  it('html: the tables, SVG charts with captions (none for a mode with one length), the unigram line inside the loss chart, text escaped', async () => {
    const { html } = await renderReport(lmHarness, oneSeed);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    // Nonoverlapping perplexity and training loss; sliding windows have one length (L) here.
    expect((html.match(/<svg[\s>]/g) ?? []).length).toBe(2);
    expect((html.match(/<figcaption>/g) ?? []).length).toBe(2);
    expect(html).toContain('<td class="best">9.10</td>');
    expect(html).toContain('class="marks"'); // Vega's SVG renderer
    expect(html).toContain('--out &lt;dir&gt;');
    expect(html).not.toContain('<dir>');
    expect(html).toContain('Training loss (nats per token)');
    expect(html).toContain('Dashed line H = 3.10: the unigram entropy of the training split');
    const svgs = html.split('<svg').map((part) => part.slice(0, part.indexOf('</svg>')));
    const { lines } = referenceGeometry(svgs.find((svg) => svg.includes("'Training loss"))!);
    expect(lines).toHaveLength(1);
    expect(lines[0]![1]).toBeGreaterThanOrEqual(0);
    expect(lines[0]![1]).toBeLessThanOrEqual(340);
  });
});
