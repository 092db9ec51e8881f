/**
 * `posenc bench lra`: the Long-Range Arena (Tay et al., ICLR 2021) — ListOps, Text, Retrieval,
 * Image and Pathfinder classification at long lengths — for softmax and linear attention with
 * each position method, including the methods that give linear attention relative positions:
 * SPE (Liutkus et al. 2021) and FFT-RPE (Luo et al. 2021). Rows are `<dataset>.<method>`; each
 * dataset trains its own model on its own plan.
 */
import { resolve } from 'node:path';
import type { Harness } from '../../run/harness.js';
import type { CellRecord } from '../../run/results.js';
import { splitRowName, type LraConfig } from './config.js';
import { GENERATED, loadLraData, type LraData } from './data.js';
import { evaluateLra, LRA_METRICS } from './evaluate.js';
import { lraRows } from './methods/rows.js';
import type { LraSession } from './methods/session.js';
import { checkLraConfig, LRA_OPTIONS } from './options.js';
import { LRA_PRESETS } from './presets.js';
import { lraReport, lraRunFacts } from './report.js';

const absolute = (path: string, baseDir: string) =>
  path && path !== GENERATED ? resolve(baseDir, path) : path;

export const lraHarness: Harness<LraConfig, LraData, LraSession> = {
  task: 'lra',
  title: 'Long-Range Arena',
  summary:
    'classify ListOps, Text, Retrieval, Image and Pathfinder sequences with softmax and linear attention and each position method (SPE, FFT-RPE, RoPE, …)',
  version: 1,
  presets: LRA_PRESETS,
  options: LRA_OPTIONS,
  helpNotes: [
    "Rows are <dataset>.<method> (listops.linear+spe-sine); --methods takes them, or all. Released data is read from the folders given (--text, --retrieval, --image, --listops DIR, --pathfinder DIR); nothing is downloaded. Text is cut at 1000 bytes as LRA's config does (--text-length 4000 for the paper title's 4K).",
  ],

  async resolveConfig(config, baseDir) {
    checkLraConfig(config);
    return {
      ...config,
      listops: absolute(config.listops, baseDir),
      pathfinder: absolute(config.pathfinder, baseDir),
      text: absolute(config.text, baseDir),
      retrieval: absolute(config.retrieval, baseDir),
      image: absolute(config.image, baseDir),
    };
  },
  runName: (c) => `lra-${c.tasks.join('+')}`,

  methods: lraRows,
  loadData: loadLraData,
  dataFacts: (_config, data) =>
    Object.fromEntries(
      Object.entries(data).map(([task, d]) => [
        task,
        {
          source: d.source,
          train: d.train.length,
          test: d.test.length,
          maxLength: d.maxLength,
          classes: d.classes,
          majority: d.majority,
        },
      ]),
    ),
  estimateMemory: (config, data) => {
    // Softmax attention's scores dominate: batch × heads × N² floats, three copies (scores, probabilities, gradient).
    let largest = 0;
    for (const task of config.tasks) {
      const p = config.plans[task];
      const n = (data[task]?.maxLength ?? 0) + 1;
      largest = Math.max(
        largest,
        3 * 4 * p.batch * p.heads * n * n * p.layers + 16 * p.batch * n * p.ffnDim * p.layers,
      );
    }
    return largest;
  },

  training(config, _data, method) {
    const p = config.plans[splitRowName(method).task];
    return {
      steps: p.steps,
      lr: p.lr,
      weightDecay: p.weightDecay,
      schedule: {
        kind: 'cosine',
        warmupSteps: Math.min(p.warmupSteps, p.steps - 1),
        minLrRatio: 0,
      },
      clipNorm: 1,
      // Examples, not tokens: a step's token count varies with the lengths drawn, and the plan's
      // units per step are fixed.
      unit: 'examples',
      unitsPerStep: p.batch,
    };
  },
  evaluate: evaluateLra,
  metrics: () => LRA_METRICS,
  report: lraReport,
  runFacts: lraRunFacts,
  summarize: (record: CellRecord) =>
    `accuracy ${record.metrics['accuracy']?.toFixed(2)}% (majority ${record.metrics['majority']?.toFixed(2)}%), train ${(record.training.wallMs / 1000).toFixed(0)} s`,
};
