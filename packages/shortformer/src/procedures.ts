/**
 * Shortformer's training procedures as comparisons list them: which encoding, which stages (as
 * shares of the final subsequence length L and of the steps) and whether the previous
 * subsequence is cached. A benchmark harness builds its rows from this list and runs each with
 * `StagedSchedule`, `shortformerTraining` and `SubsequenceCache`.
 */
export interface ShortformerProcedure {
  readonly name: string;
  readonly description: string;
  /** `pia` (position-infused attention) or `sinusoidal` (sinusoids at the input, the baseline). */
  readonly encoding: 'pia' | 'sinusoidal';
  /** In training order; `lengthRatio` × L is the stage's subsequence length, `share` its part of the steps. */
  readonly stages: readonly { readonly lengthRatio: number; readonly share: number }[];
  /** L′ = L: each subsequence attends to the previous one, in training and evaluation (§5.2). */
  readonly cache: boolean;
}

export const SHORTFORMER_PROCEDURES: readonly ShortformerProcedure[] = [
  {
    // §6: L = 128 → 512 (L/4 → L) for 50% of training (footnote 11), PIA with the cache.
    name: 'shortformer',
    description:
      'position-infused attention + cache of the previous subsequence (L′ = L) + staged training (L/4 for half the steps, then L)',
    encoding: 'pia',
    stages: [
      { lengthRatio: 0.25, share: 0.5 },
      { lengthRatio: 1, share: 0.5 },
    ],
    cache: true,
  },
  {
    // §4: the staged baseline; the best schedule is L = 128 for 50 of 205 epochs, then 3072.
    name: 'sinusoidal+staged',
    description:
      'sinusoids at the input, staged training (L/4 for the first quarter, then L), no cache',
    encoding: 'sinusoidal',
    stages: [
      { lengthRatio: 0.25, share: 0.25 },
      { lengthRatio: 1, share: 0.75 },
    ],
    cache: false,
  },
];
