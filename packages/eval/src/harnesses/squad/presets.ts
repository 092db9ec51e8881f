/**
 * Named settings for `--preset`.
 *
 * - `quick`: a smoke run of the embedded set (two minutes; tests run it smaller).
 * - `default`: the absolute methods against the fast relative ones on the embedded set, small
 *   enough for 2 cores (see the README for its measured time and table, with seeds).
 * - `paper`: BERT-base's SQuAD 1.1 fine-tuning shape (12 layers, d 768, 384 tokens, stride 128,
 *   2 epochs of batch 32 at 3e-5) on the official files; days on a CPU and needs the files.
 */
import type { Preset } from '../../run/harness.js';
import type { SquadConfig } from './config.js';

/**
 * The default's methods: two absolute, three relative, all of similar cost. Shaw's and the
 * key-query relative encodings gather a [B,H,N,N] table per layer, several times the cost of
 * these here; `--methods all` adds them (and `none`) at the same settings, in the same folder.
 */
const DEFAULT_METHODS = ['learned', 'sinusoidal', 't5', 'alibi', 'rope'];

const EMBEDDED: Omit<SquadConfig, 'steps' | 'batch' | 'model' | 'sotu'> = {
  train: 'sotu',
  dev: 'sotu',
  tokenizer: 'bytes',
  maxLength: 96,
  maxQuestion: 32,
  docStride: 48,
  windowPositions: 'document',
  lr: 2e-3,
  init: '',
  nBest: 20,
  maxAnswerLength: 30,
  nullThreshold: 0,
  lengthBuckets: [100, 200, 300],
};

export const SQUAD_PRESETS: Readonly<Record<string, Preset<SquadConfig>>> = {
  quick: {
    description:
      'a smoke run: learned, alibi and rope on 1000 questions of the embedded set, a 2-layer d=32 encoder, 150 steps (about two minutes on 2 cores)',
    config: {
      ...EMBEDDED,
      sotu: { trainQuestions: 1000, devQuestions: 100, maxContextChars: 320, questionWords: 3 },
      steps: 150,
      batch: 16,
      model: { modelDim: 32, layers: 2, heads: 2, ffnDim: 128 },
    },
    methods: ['learned', 'alibi', 'rope'],
  },
  default: {
    description:
      'learned and sinusoidal against t5, alibi and rope on the embedded set (3000 train / 200 dev questions, contexts ≤ 320 characters), a 2-layer d=64 encoder, 300 steps of 16 windows of 96 bytes',
    config: {
      ...EMBEDDED,
      sotu: { trainQuestions: 3000, devQuestions: 200, maxContextChars: 320, questionWords: 3 },
      steps: 300,
      batch: 16,
      model: { modelDim: 64, layers: 2, heads: 4, ffnDim: 256 },
    },
    methods: DEFAULT_METHODS,
  },
  paper: {
    description:
      "BERT-base's SQuAD 1.1 shape (12 layers, d 768, 384 tokens, stride 128, batch 32, 2 epochs ≈ 5.5k steps, lr 3e-5) from scratch or --init; needs --train/--dev with the official files and a --tokenizer (days on a CPU)",
    config: {
      ...EMBEDDED,
      train: 'data/squad/train-v1.1.json',
      dev: 'data/squad/dev-v1.1.json',
      sotu: { trainQuestions: 4000, devQuestions: 400, maxContextChars: 600, questionWords: 3 },
      maxLength: 384,
      maxQuestion: 64,
      docStride: 128,
      windowPositions: 'window',
      steps: 5500,
      batch: 32,
      lr: 3e-5,
      model: { modelDim: 768, layers: 12, heads: 12, ffnDim: 3072 },
    },
    methods: ['learned', 'relative_key_query'],
  },
};
