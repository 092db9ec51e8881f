/**
 * Shortformer's training procedures as comparisons list them: which encoding, which stages (as
 * shares of the final subsequence length L and of the steps), whether the previous subsequence
 * is cached, and the data order. A benchmark harness builds its rows from this list and runs each
 * with `StagedSchedule`, `shortformerTraining` and `SubsequenceCache`.
 *
 * Together with the encodings on a benchmark's standard procedure (`pia` alone and
 * `sinusoidal`, shuffled, one stage) they are the paper's ablation: what PIA, the cache, the
 * stages and the unshuffled streams each add.
 */
import type { CacheContext } from './staged-training.js';

export interface ShortformerProcedure {
  readonly name: string;
  readonly description: string;
  /** `pia` (position-infused attention) or `sinusoidal` (sinusoids at the input, the baseline). */
  readonly encoding: 'pia' | 'sinusoidal';
  /** In training order; `lengthRatio` × L is the stage's subsequence length, `share` its part of the steps. */
  readonly stages: readonly { readonly lengthRatio: number; readonly share: number }[];
  /** L′ = L: each subsequence attends to the previous one, in training and evaluation (§5.2). */
  readonly cache: boolean;
  /**
   * L′ as a share of each stage's length (default 1: L′ = L, the paper's choice); evaluation at
   * N tokens caches the same share of N.
   */
  readonly cacheRatio?: number;
  /**
   * How the previous subsequence is attended to (`shortformerTraining`'s `context`): the paper's
   * `cache` (default), or the diagnostics `fresh-cache` and `window`, which compute the same
   * context afresh to measure what the cache's one-step-old, detached states cost.
   */
  readonly context?: CacheContext;
  /**
   * `streams`: unshuffled, each batch row one contiguous stream (the official PIA + cache code,
   * which the cache needs); `shuffled`: subsequences at random offsets, as unmodified fairseq
   * trains the staged baseline and PIA without the cache.
   */
  readonly order: 'streams' | 'shuffled';
}

/** Shortformer's stages (§6, footnote 11): L/4 (128 of 512) for the first half of training, then L. */
const HALF_AT_QUARTER = [
  { lengthRatio: 0.25, share: 0.5 },
  { lengthRatio: 1, share: 0.5 },
] as const;

/**
 * The staged baseline's best schedule (§4.2, Table 2): 128 tokens for 50 of the 205 epochs, then
 * the full length. Its length ratio 128/3072 = 1/24 would leave L = 128 a stage of 5⅓ tokens;
 * L/4 keeps Shortformer's ratio and Table 2 shows the first-stage length matters little (17.52
 * to 17.81 for 32 to 128 tokens at 50 epochs).
 */
const STAGED_BASELINE = [
  { lengthRatio: 0.25, share: 50 / 205 },
  { lengthRatio: 1, share: 155 / 205 },
] as const;

const ONE_STAGE = [{ lengthRatio: 1, share: 1 }] as const;

export const SHORTFORMER_PROCEDURES: readonly ShortformerProcedure[] = [
  {
    // §6: L = 128 → 512 for half of training, PIA with the cache (Table 4: 17.47).
    name: 'shortformer',
    description:
      'position-infused attention + cache of the previous subsequence (L′ = L) + staged training (L/4 for half the steps, then L), on unshuffled streams',
    encoding: 'pia',
    stages: HALF_AT_QUARTER,
    cache: true,
    order: 'streams',
  },
  {
    // §5.2, Table 3: PIA + cache at L = 512, one stage (17.85).
    name: 'pia+cache',
    description:
      'position-infused attention + cache of the previous subsequence (L′ = L), one stage, on unshuffled streams',
    encoding: 'pia',
    stages: ONE_STAGE,
    cache: true,
    order: 'streams',
  },
  // Diagnostics, not in the paper: what in the cache makes pia+cache worse than pia+streams at
  // the harness's sizes (the shortformer README, "Why the cache does not help here").
  {
    // The cache's states, one step old and detached, recomputed under the current weights.
    name: 'pia+fresh-cache',
    description:
      "pia+cache with the previous subsequence's states recomputed under the current weights before every step (diagnostic; one more forward pass per step)",
    encoding: 'pia',
    stages: ONE_STAGE,
    cache: true,
    context: 'fresh-cache',
    order: 'streams',
  },
  {
    // The same context as the cache, with none of its mechanics: one pass over 2L tokens.
    name: 'pia+full-context',
    description:
      'PIA trained on the previous L tokens and the current L in one pass with full gradient, the loss on the current L; scored with the cache (diagnostic)',
    encoding: 'pia',
    stages: ONE_STAGE,
    cache: true,
    context: 'window',
    order: 'streams',
  },
  {
    // How the cache's effect grows with how much it holds.
    name: 'pia+cache0.25',
    description:
      'pia+cache with L′ = L/4: each subsequence attends to the last quarter of the previous one (diagnostic)',
    encoding: 'pia',
    stages: ONE_STAGE,
    cache: true,
    cacheRatio: 0.25,
    order: 'streams',
  },
  {
    // Shortformer without the cache: what the stages add to PIA alone.
    name: 'pia+staged',
    description:
      'position-infused attention + staged training (L/4 for half the steps, then L), shuffled, no cache',
    encoding: 'pia',
    stages: HALF_AT_QUARTER,
    cache: false,
    order: 'shuffled',
  },
  {
    // pia+staged on the staged baseline's schedule (§4.2) instead of Shortformer's (§6): how
    // much of what the stages do to PIA in a short run is the share of steps at L/4.
    name: 'pia+staged-short',
    description:
      "position-infused attention + staged training on the staged baseline's schedule (L/4 for the first 50/205 of the steps, then L), shuffled, no cache",
    encoding: 'pia',
    stages: STAGED_BASELINE,
    cache: false,
    order: 'shuffled',
  },
  {
    // §5.3: "PIA without cache, data shuffling disabled" (19.44 against 19.35 shuffled): what
    // the unshuffled streams the cache needs cost without it.
    name: 'pia+streams',
    description: 'position-infused attention on unshuffled streams, one stage, no cache',
    encoding: 'pia',
    stages: ONE_STAGE,
    cache: false,
    order: 'streams',
  },
  {
    // §4.2: the staged baseline (17.52 against 18.65).
    name: 'sinusoidal+staged',
    description:
      'sinusoids at the input, staged training (L/4 for the first 50/205 of the steps, then L), shuffled, no cache',
    encoding: 'sinusoidal',
    stages: STAGED_BASELINE,
    cache: false,
    order: 'shuffled',
  },
];
