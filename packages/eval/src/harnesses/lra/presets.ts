/**
 * Presets. `paper` is the LRA configurations (google-research/long-range-arena `configs/`:
 * ListOps 4 layers of 512, Text and Retrieval 4 of 256/128, Image 1 layer of 128 with 8 heads,
 * Pathfinder 4 layers of 32) on the released data — LRA's rsqrt decay after linear warmup is run
 * as core's warmup + cosine with the same peak rate (0.05/√warmup); `default` trains small models on our generated
 * ListOps and Pathfinder in minutes here, large enough to beat the majority class clearly.
 */
import type { Preset } from '../../run/harness.js';
import type { LraConfig, LraTask, TaskPlan } from './config.js';
import { LISTOPS_OFFICIAL } from './tasks/listops.js';
import { PATHFINDER_32 } from './tasks/pathfinder.js';

const LRA: Record<LraTask, TaskPlan> = {
  listops: {
    modelDim: 512,
    heads: 8,
    layers: 4,
    ffnDim: 1024,
    mlpDim: 1024,
    pooling: 'cls',
    dropout: 0.1,
    steps: 5000,
    batch: 32,
    lr: 0.05 / Math.sqrt(1000),
    warmupSteps: 1000,
    weightDecay: 0.1,
    speRealizations: 64,
    speKernel: 128,
    randomFeatures: 256,
  },
  text: {
    modelDim: 256,
    heads: 4,
    layers: 4,
    ffnDim: 1024,
    mlpDim: 1024,
    pooling: 'cls',
    dropout: 0.1,
    steps: 20000,
    batch: 32,
    lr: 0.05 / Math.sqrt(8000),
    warmupSteps: 8000,
    weightDecay: 0.1,
    speRealizations: 64,
    speKernel: 128,
    randomFeatures: 256,
  },
  retrieval: {
    modelDim: 128,
    heads: 4,
    layers: 4,
    ffnDim: 512,
    mlpDim: 512,
    pooling: 'cls',
    dropout: 0.1,
    steps: 5000,
    batch: 32,
    lr: 0.05 / Math.sqrt(8000),
    warmupSteps: 8000,
    weightDecay: 0.1,
    speRealizations: 64,
    speKernel: 128,
    randomFeatures: 256,
  },
  image: {
    modelDim: 128,
    heads: 8,
    layers: 1,
    ffnDim: 128,
    mlpDim: 128,
    pooling: 'cls',
    dropout: 0.3,
    steps: 35000,
    batch: 256,
    lr: 5e-4,
    warmupSteps: 175,
    weightDecay: 0,
    speRealizations: 32,
    speKernel: 128,
    randomFeatures: 256,
  },
  pathfinder: {
    modelDim: 32,
    heads: 4,
    layers: 4,
    ffnDim: 32,
    mlpDim: 32,
    pooling: 'mean',
    dropout: 0.2,
    steps: 62500,
    batch: 512,
    lr: 1e-3,
    warmupSteps: 312,
    weightDecay: 0,
    speRealizations: 64,
    speKernel: 128,
    randomFeatures: 256,
  },
};

const SMALL: TaskPlan = {
  modelDim: 64,
  heads: 4,
  layers: 2,
  ffnDim: 128,
  mlpDim: 64,
  pooling: 'cls',
  dropout: 0,
  steps: 400,
  batch: 16,
  lr: 1e-3,
  warmupSteps: 40,
  weightDecay: 0.01,
  speRealizations: 16,
  speKernel: 16,
  randomFeatures: 32,
};

const BASE: LraConfig = {
  tasks: ['listops', 'pathfinder'],
  listops: 'generated',
  pathfinder: 'generated',
  text: '',
  retrieval: '',
  image: '',
  listopsGrammar: LISTOPS_OFFICIAL,
  listopsTrain: 96000,
  listopsTest: 2000,
  pathfinderSettings: PATHFINDER_32,
  pathfinderTrain: 160000,
  pathfinderTest: 20000,
  textLength: 1000,
  retrievalLength: 4000,
  plans: LRA,
  evalExamples: 0,
  dataSeed: 0,
};

/**
 * The small sets of the default: short expressions of depth ≤ 3; 8×8 images of two 4-step curves
 * with the dots at half ink. Pathfinder at 16×16 (9-step curves, 1 distractor, dots in the curves'
 * ink) stayed at chance after 2,000 steps of 32; what made it learnable here was the dots' own
 * value and short curves: softmax + RoPE on 12×12 images of 4-step curves with dots at 127 reached
 * 88% after 1,000 steps of 32, and 54% with dots at 255 (probes of 2026-12-03). 8×8 trains in
 * half the time and is past its jump in loss by step 300–600, so 800 steps of 32 leave a margin.
 */
const SMALL_DATA: Partial<LraConfig> = {
  listopsGrammar: { maxDepth: 3, maxArgs: 4, minLength: 8, maxLength: 60 },
  listopsTrain: 4000,
  listopsTest: 500,
  pathfinderSettings: { side: 8, curveLength: 4, distractors: 0, maxTurn: 0.3, dotInk: 128 },
  pathfinderTrain: 4000,
  pathfinderTest: 500,
  plans: {
    listops: SMALL,
    text: SMALL,
    retrieval: SMALL,
    image: SMALL,
    pathfinder: { ...SMALL, pooling: 'mean', steps: 800, batch: 32, warmupSteps: 80 },
  },
};

const rows = (tasks: readonly LraTask[], methods: readonly string[]) =>
  tasks.flatMap((t) => methods.map((m) => `${t}.${m}`));

// FFT-RPE trains on its band path (consecutive positions): ListOps at 7,500 tokens/s against
// 12,900 for plain linear attention (seed 0, measured), where its FFT path ran at 850–1,000.
const DEFAULT_METHODS = [
  'softmax',
  'softmax+rope',
  'linear',
  'linear+rope',
  'linear+spe-sine',
  'linear+fft-rpe',
];

export const LRA_PRESETS: Record<string, Preset<LraConfig>> = {
  quick: {
    description:
      'ListOps and Pathfinder generated small, 3 methods, 150 steps: a check that everything runs (too few steps for Pathfinder to beat chance); 35 s here, quiet',
    config: {
      ...BASE,
      ...SMALL_DATA,
      listopsTrain: 1000,
      listopsTest: 200,
      pathfinderTrain: 1000,
      pathfinderTest: 200,
      plans: Object.fromEntries(
        Object.entries(SMALL_DATA.plans!).map(([t, p]) => [t, { ...p, steps: 150 }]),
      ) as LraConfig['plans'],
    },
    methods: rows(['listops', 'pathfinder'], ['softmax', 'linear', 'linear+spe-sine']),
  },
  default: {
    description: `generated ListOps (depth ≤ 3, 400 steps of 16) and Pathfinder (8×8, 800 steps of 32), small models, ${DEFAULT_METHODS.length} methods; 4 min 15 s for one seed here, quiet`,
    config: { ...BASE, ...SMALL_DATA },
    methods: rows(['listops', 'pathfinder'], DEFAULT_METHODS),
  },
  paper: {
    description:
      'the LRA configurations on the released data (give --text, --retrieval, --image, --pathfinder folders) and official ListOps; days on this machine',
    config: { ...BASE, tasks: ['listops', 'text', 'retrieval', 'image', 'pathfinder'] },
    methods: ['all'],
  },
};
