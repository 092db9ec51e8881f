/**
 * Published numbers printed beside ours. The LRA leaderboard (google-research/long-range-arena
 * README, 8 Nov 2020; "Avg" over the five tasks without Path-X) and the SPE repository's per-run
 * LRA results (aliutkus/spe `experiments/lra/models/gpu_16g/*\/*\/r*\/results.json`, mean over
 * the runs present; its ListOps runs predate the fix of the bracket bug, so they sit at chance).
 */
import type { LraTask } from './config.js';

export interface Reference {
  readonly name: string;
  readonly source: string;
  readonly accuracy: Partial<Record<LraTask, number>>;
}

export const LRA_REFERENCES: readonly Reference[] = [
  {
    name: 'Transformer',
    source: 'LRA leaderboard',
    accuracy: { listops: 36.37, text: 64.27, retrieval: 57.46, image: 42.44, pathfinder: 71.4 },
  },
  {
    name: 'Performer',
    source: 'LRA leaderboard',
    accuracy: { listops: 18.01, text: 65.4, retrieval: 53.82, image: 42.77, pathfinder: 77.05 },
  },
  {
    name: 'Linear Trans.',
    source: 'LRA leaderboard',
    accuracy: { listops: 16.13, text: 65.9, retrieval: 53.09, image: 42.34, pathfinder: 75.3 },
  },
  {
    name: 'Performer (softmax)',
    source: 'SPE repo, 3 runs',
    accuracy: { listops: 17.8, text: 62.58, retrieval: 59.84, image: 42.28 },
  },
  {
    name: 'Performer + sineSPE',
    source: 'SPE repo, 3 runs',
    accuracy: { listops: 17.43, text: 62.6, retrieval: 60.0, image: 41.12 },
  },
  {
    name: 'Performer + convSPE',
    source: 'SPE repo, 1 run',
    accuracy: { retrieval: 57.22, image: 40.06 },
  },
  {
    name: 'Linear (ReLU)',
    source: 'SPE repo, 3 runs',
    accuracy: { listops: 17.58, text: 63.98, retrieval: 58.78, image: 42.25 },
  },
  {
    name: 'Linear + sineSPE',
    source: 'SPE repo, 3 runs',
    accuracy: { listops: 17.8, text: 64.09, retrieval: 62.39, image: 41.21 },
  },
  {
    name: 'Linear + convSPE',
    source: 'SPE repo, 1–2 runs',
    accuracy: { listops: 9.18, retrieval: 61.13, image: 39.63 },
  },
];
