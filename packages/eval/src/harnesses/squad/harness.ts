/**
 * `posenc bench squad`: extractive question answering with each text position method on the
 * same encoder, trained from scratch (or from `--init`), decoded as the reference pipelines
 * decode and scored as the official SQuAD scripts score.
 */
import { resolve } from 'node:path';
import type { Harness } from '../../run/harness.js';
import type { CellRecord } from '../../run/results.js';
import { loadSpanTokenizer } from './data/span-tokenizer.js';
import { CLIP_NORM, MIN_LR_RATIO, WEIGHT_DECAY, warmupSteps, type SquadConfig } from './config.js';
import {
  DEV_FILE,
  loadSquadData,
  squadDataFacts,
  squadWarnings,
  TRAIN_FILE,
  type SquadData,
} from './data.js';
import { evaluateSquad, squadMetrics } from './evaluate.js';
import { squadRows } from './methods.js';
import type { SquadSession } from './model/session.js';
import { initKind } from './model/init-checkpoint.js';
import { checkSquadConfig, SQUAD_OPTIONS } from './options.js';
import { SQUAD_PRESETS } from './presets.js';
import { squadReport, squadRunFacts } from './report.js';

export const squadHarness: Harness<SquadConfig, SquadData, SquadSession> = {
  task: 'squad',
  title: 'Extractive question answering (SQuAD)',
  summary:
    'train the same encoder with each text position method for extractive QA and score it as the official SQuAD scripts do',
  version: 1,
  presets: SQUAD_PRESETS,
  options: SQUAD_OPTIONS,
  helpNotes: [
    'Each cell trains the encoder with its span head on [CLS] question [SEP] context-window [SEP] inputs, decodes the n-best spans across windows, writes predictions.json in its folder and scores it as evaluate-v1.1.py / evaluate-v2.0.py do (posenc score squad scores any predictions file the same way).',
  ],

  async resolveConfig(config, baseDir) {
    checkSquadConfig(config);
    const path = (p: string) =>
      p === 'sotu' || p === 'bytes' || p === '' ? p : resolve(baseDir, p);
    const resolved = {
      ...config,
      train: path(config.train),
      dev: path(config.dev),
      tokenizer: path(config.tokenizer),
      init: path(config.init),
      lengthBuckets: [...new Set(config.lengthBuckets)].sort((a, b) => a - b),
    };
    // Named mistakes before anything runs: a tokenizer or a checkpoint that is not there.
    await loadSpanTokenizer(resolved.tokenizer);
    if (resolved.init) initKind(resolved.init);
    return resolved;
  },
  runName: (c) =>
    `squad-${c.train === 'sotu' ? 'sotu' : 'files'}-${c.tokenizer === 'bytes' ? 'bytes' : 'tok'}-N${c.maxLength}`,

  methods: squadRows,
  loadData: loadSquadData,
  dataFacts: squadDataFacts,
  warnings: squadWarnings,
  runFiles: (_config, data): Record<string, string> =>
    data.embedded ? { [TRAIN_FILE]: data.train.text, [DEV_FILE]: data.dev.text } : {},

  training: (c) => ({
    steps: c.steps,
    lr: c.lr,
    weightDecay: WEIGHT_DECAY,
    schedule: { kind: 'cosine', warmupSteps: warmupSteps(c.steps), minLrRatio: MIN_LR_RATIO },
    clipNorm: CLIP_NORM,
    unit: 'windows',
    unitsPerStep: c.batch,
  }),
  evaluate: evaluateSquad,
  metrics: squadMetrics,
  report: squadReport,
  runFacts: squadRunFacts,
  summarize: (record: CellRecord) =>
    `EM ${record.metrics['exact']?.toFixed(2)}, F1 ${record.metrics['f1']?.toFixed(2)}, train ${(record.training.wallMs / 1000).toFixed(0)} s, eval ${(record.evalWallMs / 1000).toFixed(0)} s`,
};
