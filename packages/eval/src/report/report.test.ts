/** The reports on a made-up result: the table's layout and marks, and charts drawn by Vega. */
import { describe, expect, it } from 'vitest';
import { PRESETS } from '../bench/presets.js';
import { RESULTS_FORMAT, type BenchResults, type MethodRecord } from '../bench/results.js';
import { smoothLosses } from './charts.js';
import { renderHtmlReport } from './html-report.js';
import { markdownTable, renderMarkdownReport } from './markdown-report.js';

function method(name: string, perplexities: Record<number, number>): MethodRecord {
  return {
    method: name,
    description: `${name} <described>`,
    paper: 'Someone 2020',
    package: '@posenc/core',
    notes: [],
    training: {
      steps: 4,
      tokens: 256,
      lossHistory: [5, 4, 3.5, 3],
      finalLoss: 3,
      wallMs: 2000,
      tokensPerSecond: 128,
      resumedFrom: [2],
      parameters: 1000,
    },
    evaluations: Object.entries(perplexities).flatMap(([length, p]) =>
      (['nonoverlapping', 'sliding'] as const).map((mode) => ({
        mode,
        length: Number(length),
        tokens: 100,
        nll: 100 * Math.log(p),
        meanNll: Math.log(p),
        perplexity: mode === 'sliding' ? p * 0.9 : p,
        wallMs: 10,
      })),
    ),
    evalWallMs: 40,
    finishedAt: '2026-01-01T00:00:00.000Z',
  };
}

const { methods: _methods, ...settings } = PRESETS['default']!;
const results: BenchResults = {
  format: RESULTS_FORMAT,
  run: 'lm-test',
  command: 'posenc bench lm --methods a,b --out <dir>',
  config: { ...settings, evalLengths: [64, 128, 256] },
  configHash: 'abc',
  methods: [
    method('alibi', { 64: 9.5, 128: 9.1, 256: 9.0 }),
    method('learned', { 64: 9.2, 128: 30.25, 256: 1234.5 }),
  ],
  failed: [{ method: 't5', error: 'training stopped at step 3: the loss is NaN' }],
  unavailable: [
    { method: 'rope', package: '@posenc/roformer', reason: '@posenc/roformer is not installed' },
  ],
  corpus: { spec: 'sotu', description: 'addresses', splits: {}, trainUnigramEntropy: 3.1 },
  tokenizer: { spec: 'bytes', description: 'bytes', vocabSize: 256 },
  evaluation: { split: 'test', targets: 100, segments: 1, segmentTargets: 100, wholeSplit: false },
  engine: { engine: 'wasm', backend: 'wasm' },
  versions: { '@posenc/core': '0.1.0' },
  machine: { platform: 'linux', arch: 'x64', cpus: 2, cpuModel: 'cpu', node: 'v20' },
  process: { wallMs: 5000, peakRssMB: 300 },
  writtenAt: '2026-01-01T00:00:00.000Z',
};

describe('reports', () => {
  it('table: methods as rows, evaluation lengths as columns, the best of each column in bold', () => {
    expect(markdownTable(results, 'nonoverlapping')).toBe(
      [
        '| method | 64 (= L) | 128 | 256 |',
        '|---|---:|---:|---:|',
        '| alibi | 9.50 | **9.10** | **9.00** |',
        '| learned | **9.20** | 30.25 | 1.23e+3 |',
      ].join('\n'),
    );
    expect(markdownTable(results, 'sliding')).toContain('| alibi | 8.55 | **8.19** | **8.10** |');
  });

  it('markdown report: both modes, training, what did not run and why', () => {
    const md = renderMarkdownReport(results);
    expect(md).toContain('## Perplexity, nonoverlapping windows');
    expect(md).toContain('## Perplexity, sliding window');
    expect(md).toContain('| alibi | 3.000 | 128 | 2.0 s (resumed at step 2) |');
    expect(md).toContain(
      '- rope (@posenc/roformer): unavailable — @posenc/roformer is not installed',
    );
    expect(md).toContain('- t5: failed — training stopped at step 3: the loss is NaN');
    expect(md).toContain('exp(H) = 22.20');
  });

  it('html report: the tables, three SVG charts rendered by Vega, text escaped', async () => {
    const html = await renderHtmlReport(results);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect((html.match(/<svg[\s>]/g) ?? []).length).toBe(3);
    expect(html).toContain('<td class="best">9.10</td>');
    expect(html).toContain('class="marks"'); // Vega's SVG renderer
    expect(html).toContain('--out &lt;dir&gt;');
    expect(html).not.toContain('<dir>');
    expect(html).toContain('Training loss (nats per token)');
  });

  it('smooths loss curves into window means', () => {
    expect(smoothLosses([1, 2, 3, 4, 5], 2)).toEqual([
      { step: 3, loss: 2 },
      { step: 5, loss: 4.5 },
    ]);
  });
});
