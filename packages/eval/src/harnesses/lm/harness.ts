/**
 * `posenc bench lm`: the same small decoder-only LM trained once per position method and seed
 * (same initialisation and data order per seed), evaluated at its training length and beyond in
 * nonoverlapping and sliding-window modes, so the table shows which method extrapolates.
 */
import type { Harness } from '../../run/harness.js';
import type { CellRecord } from '../../run/results.js';
import { CLIP_NORM, MIN_LR_RATIO, WEIGHT_DECAY, warmupSteps, type LMConfig } from './config.js';
import { loadCorpus } from '../../corpus/load-corpus.js';
import { lmDataFacts, loadLMData, type LMData } from './data.js';
import { evaluateLM, lmMetrics } from './evaluate.js';
import { estimateLMMemory } from './memory.js';
import { lmRows } from './methods/rows.js';
import type { LMSession } from './methods/session.js';
import { checkLMConfig, LM_OPTIONS } from './options.js';
import { LM_PRESETS } from './presets.js';
import { lmLossReferences, lmReport, lmRunFacts } from './report.js';
import { loadTokenizer } from '../../tokenizer/load-tokenizer.js';

export const lmHarness: Harness<LMConfig, LMData, LMSession> = {
  task: 'lm',
  title: 'Language-modelling benchmark',
  summary:
    'train the same small language model with each position method and compare perplexity at the training length and beyond',
  // 3: a cached method's first window of a segment sees the tokens before the segment (its cache).
  version: 3,
  presets: LM_PRESETS,
  options: LM_OPTIONS,
  helpNotes: [
    "Each cell trains the decoder with core's trainer (AdamW, warmup then cosine decay, clipping), checkpoints it, and evaluates perplexity per token at every evaluation length in nonoverlapping and sliding-window modes.",
  ],

  async resolveConfig(config, baseDir) {
    checkLMConfig(config);
    const corpus = await loadCorpus(config.corpus, baseDir);
    const tokenizer = await loadTokenizer(config.tokenizer, baseDir);
    return {
      ...config,
      corpus: corpus.spec,
      tokenizer: tokenizer.spec,
      evalLengths: [...new Set(config.evalLengths)].sort((a, b) => a - b),
    };
  },
  runName: (c) =>
    `lm-${c.corpus.split(':')[0]}-${c.tokenizer === 'bytes' ? 'bytes' : 'tok'}-L${c.trainLength}`,
  estimateMemory: (config, data) => estimateLMMemory(config, data.vocabSize),

  methods: lmRows,
  loadData: loadLMData,
  dataFacts: lmDataFacts,
  warnings: (_config, data) => [...(data.corpus.warnings ?? [])],

  training: (c) => ({
    steps: c.steps,
    lr: c.lr,
    weightDecay: WEIGHT_DECAY,
    schedule: { kind: 'cosine', warmupSteps: warmupSteps(c.steps), minLrRatio: MIN_LR_RATIO },
    clipNorm: CLIP_NORM,
    unit: 'tokens',
    unitsPerStep: c.batch * c.trainLength,
  }),
  evaluate: evaluateLM,
  metrics: (c) => lmMetrics(c),
  report: lmReport,
  runFacts: lmRunFacts,
  lossReferences: lmLossReferences,
  summarize: (record: CellRecord) => {
    const t = record.training;
    return `final loss ${t.finalLoss.toFixed(3)}, ${Math.round(t.unitsPerSecond)} tok/s, train ${(t.wallMs / 1000).toFixed(0)} s, eval ${(record.evalWallMs / 1000).toFixed(0)} s`;
  },
};
