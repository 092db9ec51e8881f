/** Options of a tiny benchmark run for the tests: a one-layer d=16 LM, seconds per method. */
export const TINY_RUN_ARGS = [
  '--preset',
  'quick',
  '--train-len',
  '16',
  '--eval-lens',
  '16,32',
  '--batch',
  '4',
  '--dim',
  '16',
  '--layers',
  '1',
  '--heads',
  '2',
  '--eval-tokens',
  '256',
] as const;
