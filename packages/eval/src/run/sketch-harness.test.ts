/**
 * A harness needs only its folder: a toy task written here in a few lines — fit y = a·x with one
 * weight, two rows differing in their initial weight — runs through the shared engine: run
 * folder, lock, cells of (method, seed), checkpoints, an interrupted run resumed to the same
 * figures as one never interrupted, results and both reports.
 */
import { tf, zerosParameter } from '@posenc/core';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricTable } from '../report/metric-table.js';
import type { Harness, TrainingSession } from './harness.js';
import { integerOption } from './options.js';
import { prepareBench } from './prepare-bench.js';
import type { BenchResults } from './results.js';
import { runBench } from './run-bench.js';
import { engineAndRunRoot } from '../testing/run-root.js';

interface ToyConfig {
  steps: number;
  slope: number;
}
const toyMetrics = [{ key: 'mse', title: 'mse', unit: 'squared error', higherIsBetter: false }];

const toy: Harness<ToyConfig, { xs: number[] }, TrainingSession> = {
  task: 'toy',
  title: 'Toy regression',
  summary: 'fit a line',
  version: 1,
  presets: {
    quick: { description: 'q', config: { steps: 20, slope: 3 }, methods: ['zero', 'one'] },
    default: { description: 'd', config: { steps: 40, slope: 3 }, methods: ['zero', 'one'] },
    paper: { description: 'p', config: { steps: 400, slope: 3 }, methods: ['all'] },
  },
  options: [
    integerOption({
      flag: 'steps',
      help: 'steps',
      min: 1,
      max: 1000,
      get: (c) => c.steps,
      set: (c, v) => ({ ...c, steps: v }),
    }),
  ],
  resolveConfig: async (c) => c,
  runName: (c) => `toy-${c.steps}`,
  methods: async () =>
    [0, 1].map((start) => ({
      name: start === 0 ? 'zero' : 'one',
      description: `starts at ${start}`,
      paper: '—',
      package: '@posenc/eval',
      prepare:
        async () => (context: { config: ToyConfig; data: { xs: number[] }; seed: number }) => {
          const w = zerosParameter([1]);
          w.assign(tf.fill([1], start + context.seed / 10));
          return {
            parameters: () => ({ w }),
            notes: [],
            batchAt: (step: number) => {
              const x = tf.tensor1d(context.data.xs.map((v) => v + step / 100));
              return { x, y: tf.mul(x, context.config.slope) };
            },
            loss: (b: { x: tf.Tensor; y: tf.Tensor }) =>
              tf.tidy(() => tf.mean(tf.square(tf.sub(tf.mul(b.x, w), b.y)))) as tf.Scalar,
            dispose: () => w.dispose(),
          } as unknown as TrainingSession;
        },
    })),
  loadData: async () => ({ xs: [1, 2, 3, 4] }),
  dataFacts: () => ({ points: 4 }),
  training: (c) => ({
    steps: c.steps,
    lr: 0.15,
    weightDecay: 0,
    schedule: { kind: 'constant' },
    unit: 'points',
    unitsPerStep: 4,
  }),
  evaluate: async (session, context) => {
    const w = (await session.parameters()['w']!.data())[0]!;
    const mse = await context.store.part('mse', async () => (w - context.config.slope) ** 2);
    return { metrics: { mse }, details: { w }, wallMs: 1 };
  },
  metrics: () => toyMetrics,
  report: (results) => [{ title: 'Fit', table: metricTable(results, toyMetrics) }],
  runFacts: () => ['A line through the origin.'],
};

const root = engineAndRunRoot('cpu', 'posenc-sketch-');

const prepare = (out: string) =>
  prepareBench<ToyConfig, { xs: number[] }>({
    harness: toy,
    config: toy.presets['default']!.config,
    methods: ['zero', 'one'],
    methodsExplicit: true,
    seeds: [0, 1],
    out,
    baseDir: root(),
    command: 'toy',
    checkpointEvery: 5,
  });

describe('a sketch harness on the shared engine', () => {
  it('runs its cells, resumes an interrupted run to the same figures, and reports', async () => {
    const reference = await runBench(await prepare('reference'));
    expect(reference.failed).toEqual([]);
    expect(reference.results.cells.map((c) => `${c.method}/${c.seed}`)).toEqual([
      'zero/0',
      'zero/1',
      'one/0',
      'one/1',
    ]);
    for (const c of reference.results.cells) expect(c.metrics['mse']!).toBeLessThan(1);

    // Interrupt zero's second seed after 12 steps: it is checkpointed at step 12 (the abort) and resumed.
    const controller = new AbortController();
    let steps = 0;
    const partial = await runBench(await prepare('interrupted'), {
      signal: controller.signal,
      progress: {
        runStarted: () => {},
        cellSkipped: () => {},
        cellStarted: () => {},
        trainStep: (cell) => {
          if (cell === 'zero/seed-1' && ++steps === 12) controller.abort();
        },
        evaluated: () => {},
        cellFinished: () => {},
        cellFailed: () => {},
        note: () => {},
      },
    });
    // Seed by seed: the first seed's cells were done before the interrupted one started.
    expect(partial.results.cells.map((c) => `${c.method}/${c.seed}`)).toEqual(['zero/0', 'one/0']);
    const resumed = await runBench(await prepare('interrupted'));
    expect(resumed.skipped).toEqual(['zero/seed-0', 'one/seed-0']);
    const cell = resumed.results.cells.find((c) => c.method === 'zero' && c.seed === 1)!;
    expect(cell.training.resumedFrom).toEqual([12]);
    resumed.results.cells.forEach((c, i) => {
      const r = reference.results.cells[i]!;
      expect(c.training.lossHistory).toEqual(r.training.lossHistory);
      expect(c.metrics).toEqual(r.metrics);
    });
    const dir = join(root(), 'interrupted');
    const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as BenchResults;
    expect(results.format).toBe('posenc-bench/toy/1');
    expect(results.data).toEqual({ points: 4 });
    const md = await readFile(join(dir, 'report.md'), 'utf8');
    expect(md).toContain('## Fit');
    expect(md).toMatch(/\| zero \| 2 \| [\d.]+ ± [\d.]+/);
    expect(md).toContain('- A line through the origin.');
    expect(await readFile(join(dir, 'report.html'), 'utf8')).toContain(
      'Training loss (nats per point)',
    );
  });
});
