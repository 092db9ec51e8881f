/**
 * Named settings for `--preset`; flags given on the command line override them.
 *
 * - `quick`: a smoke run of under a minute in which RoPE already separates from the rest (the
 *   integration tests run it smaller still).
 * - `default`: the README's main command. A 2-layer d=64 byte-level LM trained at L = 64 for 300
 *   steps of 16 windows, evaluated up to 8× that: long enough for the methods to separate (RoPE
 *   degrades past L, ALiBi and chunk-trained RoPE stay flat), short enough to finish in about
 *   2–3 minutes on 2 cores with @posenc/kernels (measured; see the README).
 * - `long`: the same comparison with 10× the training, at L = 128 up to 1024 (hours on a CPU).
 * - `compare`: the comparison size of the papers' effects (issue 17's table): a 4-layer d=128 LM,
 *   1200 steps of 16 × 128 tokens (2.5M tokens), evaluated at 128…1024 on 65,536 test tokens;
 *   the table's nine methods, roughly ten minutes per cell on 2 shared cores.
 * - `paper`: the shape and lengths of Press et al.'s WikiText-103 models (ALiBi §4, L = 512),
 *   byte-level; weeks on a CPU, and more memory than a laptop has at the paper's batch.
 */
import type { Preset } from '../../run/harness.js';
import type { LMConfig } from './config.js';

const TINY_LM = { modelDim: 64, layers: 2, heads: 4, ffnDim: 256 };

export const LM_PRESETS: Readonly<Record<string, Preset<LMConfig>>> = {
  quick: {
    description:
      'a smoke run: 4 methods, a 2-layer d=32 LM, 250 steps at L = 32, evaluated at 32…128 (under a minute; RoPE already separates)',
    config: {
      corpus: 'sotu',
      tokenizer: 'bytes',
      trainLength: 32,
      evalLengths: [32, 64, 128],
      steps: 250,
      batch: 16,
      model: { modelDim: 32, layers: 2, heads: 2, ffnDim: 128 },
      lr: 3e-3,
      evalSplit: 'test',
      evalTokens: 2048,
      strideRatio: 0.5,
    },
    methods: ['none', 'sinusoidal', 'alibi', 'rope'],
  },
  default: {
    description:
      'the README table: 10 methods, a 2-layer d=64 byte-level LM, 300 steps at L = 64, evaluated at 64…512 (about 2–3 minutes on 2 cores)',
    config: {
      corpus: 'sotu',
      tokenizer: 'bytes',
      trainLength: 64,
      evalLengths: [64, 128, 256, 512],
      steps: 300,
      batch: 16,
      model: TINY_LM,
      lr: 3e-3,
      evalSplit: 'test',
      evalTokens: 8192,
      strideRatio: 0.5,
    },
    methods: [
      'none',
      'sinusoidal',
      'learned',
      'alibi',
      't5',
      'rope',
      'xpos',
      'shortformer',
      'rope+chunk0.25',
      'learned+interpolate',
    ],
  },
  long: {
    description:
      'the default comparison with 10× the training: L = 128, 2500 steps, evaluated at 128…1024 (hours on a CPU)',
    config: {
      corpus: 'sotu',
      tokenizer: 'bytes',
      trainLength: 128,
      evalLengths: [128, 256, 512, 1024],
      steps: 2500,
      batch: 16,
      model: TINY_LM,
      lr: 3e-3,
      evalSplit: 'test',
      evalTokens: 65536,
      strideRatio: 0.5,
    },
    methods: ['all'],
  },
  compare: {
    description:
      "the papers' comparison size: a 4-layer d=128 LM, 1200 steps of 16 × 128 tokens, evaluated at 128…1024 on 65,536 test tokens; 9 methods (about 10 minutes per cell on 2 cores)",
    config: {
      corpus: 'sotu',
      tokenizer: 'bytes',
      trainLength: 128,
      evalLengths: [128, 256, 512, 1024],
      steps: 1200,
      batch: 16,
      model: { modelDim: 128, layers: 4, heads: 4, ffnDim: 512 },
      lr: 1e-3,
      evalSplit: 'test',
      evalTokens: 65536,
      strideRatio: 0.5,
    },
    methods: [
      'none',
      'sinusoidal',
      'learned',
      'alibi',
      'rope',
      'xpos',
      'shortformer',
      'rope+chunk0.25',
      'learned+interpolate',
    ],
  },
  paper: {
    description:
      "Press et al. 2022's WikiText-103 shape (§4): 16 layers, d 1024, 8 heads, FFN 4096, L = 512, 9,216 tokens × 8 GPUs per step, 286k steps, evaluated on the whole valid split at 512…3072; byte-level here where the paper used adaptive input over words, so its perplexities are not comparable to the paper's; needs --corpus wikitext:DIR with WikiText-103, weeks on a CPU",
    config: {
      corpus: 'wikitext:data/wikitext-103',
      tokenizer: 'bytes',
      trainLength: 512,
      evalLengths: [512, 1024, 1536, 2048, 3072],
      steps: 286000,
      batch: 144,
      model: { modelDim: 1024, layers: 16, heads: 8, ffnDim: 4096 },
      lr: 3e-4,
      evalSplit: 'valid',
      evalTokens: 'all',
      strideRatio: 0.5,
    },
    methods: ['sinusoidal', 'alibi', 'rope', 't5'],
  },
};
