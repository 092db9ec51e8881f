/**
 * `posenc bench image`: the same ViT trained once per position method and seed (same
 * initialisation, images, crops and order per seed), evaluated at its training size and larger
 * ones, so the tables show what each 2D position method gives and how it extrapolates to more
 * patches. The embedded default is the MNIST digits of the `mnist` package; any ImageFolder and
 * ImageNet's folder layout are read through transformers.js's RawImage.
 */
import { resolve } from 'node:path';
import type { Harness } from '../../run/harness.js';
import type { CellRecord } from '../../run/results.js';
import { MIN_LR_RATIO, warmupSteps, type ImageConfig } from './config.js';
import { imageDataFacts, loadImageData, type ImageData } from './data/image-data.js';
import { evaluateImage, imageMetrics } from './evaluate.js';
import { estimateImageMemory } from './memory.js';
import { imageRows } from './methods/rows.js';
import type { ImageSession } from './methods/session.js';
import { checkImageConfig, IMAGE_OPTIONS } from './options.js';
import { IMAGE_PRESETS } from './presets.js';
import { imageReport, imageRunFacts } from './report.js';
import { scanImageFolder } from './data/image-folder.js';

export const imageHarness: Harness<ImageConfig, ImageData, ImageSession> = {
  task: 'image',
  title: 'Image-classification benchmark',
  summary:
    'train the same ViT with each 2D position method (none, learned, sinusoidal, axial RoPE, iRPE) and compare top-1/top-5 at the training size and larger',
  version: 1,
  presets: IMAGE_PRESETS,
  options: IMAGE_OPTIONS,
  helpNotes: [
    "Each cell trains the ViT with core's trainer (AdamW, warmup then cosine decay) on random-resized crops, checkpoints it, and evaluates top-1 and top-5 at every evaluation size (the training size is always one).",
    "Methods: posenc list image. iRPE rows are irpe (contextual product tables on keys, shared by the heads: the paper's recommendation) and irpe-<method>-<mode>-<on>[-unshared] for every other combination, e.g. irpe-cross-bias-qk-unshared; they keep the learned absolute encoding beside iRPE, as DeiT does.",
  ],
  async resolveConfig(config, baseDir) {
    checkImageConfig(config);
    const data = config.data === 'mnist' ? 'mnist' : resolve(baseDir, config.data);
    const valLabels = config.valLabels === '' ? '' : resolve(baseDir, config.valLabels);
    // The listing alone (nothing decoded): a missing or empty folder is refused before a run starts.
    if (data !== 'mnist') await scanImageFolder(data, valLabels);
    return {
      ...config,
      data,
      valLabels,
      evalSizes: [...new Set([config.imageSize, ...config.evalSizes])].sort((a, b) => a - b),
    };
  },
  runName: (c) => `image-${c.data === 'mnist' ? 'mnist' : 'folder'}-${c.imageSize}px`,
  estimateMemory: (config, data) => estimateImageMemory(config, data.classes.length),
  methods: imageRows,
  loadData: loadImageData,
  dataFacts: (_config, data) => imageDataFacts(data),
  warnings: (_config, data) =>
    data.skipped.map(
      (s) => `skipped the image ${s.name}, which could not be decoded (${s.reason})`,
    ),
  training: (c) => ({
    steps: c.steps,
    lr: c.lr,
    weightDecay: c.weightDecay,
    schedule: { kind: 'cosine', warmupSteps: warmupSteps(c.steps), minLrRatio: MIN_LR_RATIO },
    unit: 'images',
    unitsPerStep: c.batch,
  }),
  evaluate: evaluateImage,
  metrics: (c) => imageMetrics(c),
  report: imageReport,
  runFacts: imageRunFacts,
  summarize: (record: CellRecord) => {
    const t = record.training;
    const top1 = Object.entries(record.metrics)
      .filter(([k]) => k.startsWith('top1@'))
      .map(([k, v]) => `${k.slice(5)}px ${v.toFixed(1)}%`)
      .join(', ');
    return `top-1 ${top1}; final loss ${t.finalLoss.toFixed(3)}, ${Math.round(t.unitsPerSecond)} img/s, train ${(t.wallMs / 1000).toFixed(0)} s, eval ${(record.evalWallMs / 1000).toFixed(0)} s`;
  },
};
