/**
 * Named settings for `--preset`; flags given on the command line override them.
 *
 * - `default`: the README's main command. A 2-layer d=64 byte-level LM trained at L = 64 for 300
 *   steps of 16 windows, evaluated up to 8× that: long enough for the methods to separate (RoPE
 *   degrades past L, ALiBi and chunk-trained RoPE stay flat), short enough to finish in about
 *   4 minutes on 2 shared cores with @posenc/kernels (measured; see the README).
 * - `quick`: a smoke run of a minute or so (what the integration test runs, smaller still).
 * - `long`: the same comparison with 10× the training, at L = 128 up to 1024 (hours on a CPU).
 */
import type { BenchConfig } from './config.js';

export type PresetSettings = Omit<BenchConfig, 'corpus' | 'tokenizer'> & {
  corpus: string;
  tokenizer: string;
  methods: string[];
};

const TINY_LM = { modelDim: 64, layers: 2, heads: 4, ffnDim: 256 };

export const PRESETS: Readonly<Record<string, PresetSettings>> = {
  default: {
    corpus: 'sotu',
    tokenizer: 'bytes',
    trainLength: 64,
    evalLengths: [64, 128, 256, 512],
    steps: 300,
    batch: 16,
    model: TINY_LM,
    lr: 3e-3,
    seed: 0,
    evalSplit: 'test',
    evalTokens: 8192,
    strideRatio: 0.5,
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
  quick: {
    corpus: 'sotu',
    tokenizer: 'bytes',
    trainLength: 32,
    evalLengths: [32, 64, 128],
    steps: 60,
    batch: 8,
    model: { modelDim: 32, layers: 2, heads: 2, ffnDim: 128 },
    lr: 3e-3,
    seed: 0,
    evalSplit: 'test',
    evalTokens: 2048,
    strideRatio: 0.5,
    methods: ['none', 'sinusoidal', 'alibi', 'rope'],
  },
  long: {
    corpus: 'sotu',
    tokenizer: 'bytes',
    trainLength: 128,
    evalLengths: [128, 256, 512, 1024],
    steps: 2500,
    batch: 16,
    model: TINY_LM,
    lr: 3e-3,
    seed: 0,
    evalSplit: 'test',
    evalTokens: 65536,
    strideRatio: 0.5,
    methods: ['all'],
  },
};

export const PRESET_NAMES = Object.keys(PRESETS);
