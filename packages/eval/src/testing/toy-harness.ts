/**
 * A toy task for the queue's tests and load check: fit y = 3·x with one weight, a cell a few
 * milliseconds of work. Its rows start the weight at 0 or 1 (plus a tenth of the seed); `nan`
 * trains into a NaN loss at its third step, the deterministic failure BullMQ's retries cannot
 * mend. `delayMs` slows each step down, for tests that need a cell to be caught mid-training.
 */
import { tf, zerosParameter } from '@posenc/core';
import { metricTable } from '../report/metric-table.js';
import type { Harness, TrainingSession } from '../run/harness.js';
import { integerOption } from '../run/options.js';

export interface ToyConfig {
  steps: number;
  delayMs: number;
}

const TOY_METRICS = [{ key: 'mse', title: 'mse', unit: 'squared error', higherIsBetter: false }];
const SLOPE = 3;

function toyRow(name: string, start: number) {
  return {
    name,
    description: `starts at ${start}`,
    paper: '—',
    package: '@posenc/eval',
    prepare: async () => (context: { config: ToyConfig; seed: number }) => {
      const w = zerosParameter([1]);
      w.assign(tf.fill([1], start + context.seed / 10));
      return {
        parameters: () => ({ w }),
        notes: [],
        batchAt: (step: number) => {
          if (context.config.delayMs > 0) {
            // A slow step that blocks like real training does.
            const until = performance.now() + context.config.delayMs;
            while (performance.now() < until);
          }
          const x = tf.tensor1d([1, 2, 3, 4].map((v) => v + step / 100));
          return { x, y: tf.mul(x, SLOPE) };
        },
        loss: (b: { x: tf.Tensor; y: tf.Tensor }, c: { step: number }) =>
          tf.tidy(() => {
            const loss = tf.mean(tf.square(tf.sub(tf.mul(b.x, w), b.y)));
            return (
              name === 'nan' && c.step >= 2 ? tf.log(tf.neg(tf.add(loss, 1))) : loss
            ) as tf.Scalar;
          }),
        dispose: () => w.dispose(),
      } as unknown as TrainingSession;
    },
  };
}

export const toyHarness: Harness<ToyConfig, { points: number }, TrainingSession> = {
  task: 'toy',
  title: 'Toy regression',
  summary: 'fit a line',
  version: 1,
  presets: {
    quick: { description: 'q', config: { steps: 4, delayMs: 0 }, methods: ['zero', 'one'] },
    default: { description: 'd', config: { steps: 10, delayMs: 0 }, methods: ['zero', 'one'] },
    paper: { description: 'p', config: { steps: 100, delayMs: 0 }, methods: ['all'] },
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
  methods: async () => [toyRow('zero', 0), toyRow('one', 1), toyRow('nan', 0)],
  loadData: async () => ({ points: 4 }),
  dataFacts: (_c, d) => ({ points: d.points }),
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
    const mse = await context.store.part('mse', async () => (w - SLOPE) ** 2);
    return { metrics: { mse }, details: { w }, wallMs: 0 };
  },
  metrics: () => TOY_METRICS,
  report: (results) => [{ title: 'Fit', table: metricTable(results, TOY_METRICS) }],
  runFacts: () => ['A line through the origin.'],
};
