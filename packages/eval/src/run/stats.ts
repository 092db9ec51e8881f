/**
 * Figures over seeds: the mean, the sample standard deviation (n − 1 in the denominator) and n,
 * and whether two methods are separated — their means further apart than the sum of their
 * standard deviations. With a single seed the spread is unknown and nothing is called separated
 * or not.
 */
export interface SeedSummary {
  mean: number;
  /** Sample standard deviation; undefined for n < 2. */
  std?: number;
  n: number;
}

export function summarizeSeeds(values: readonly number[]): SeedSummary {
  const n = values.length;
  if (n === 0) throw new Error('summarizeSeeds: no values');
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, n };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  return { mean, std: Math.sqrt(variance), n };
}

/** True/false when both have a spread; undefined when either was measured once. */
export function separated(a: SeedSummary, b: SeedSummary): boolean | undefined {
  if (a.std === undefined || b.std === undefined) return undefined;
  return Math.abs(a.mean - b.mean) > a.std + b.std;
}

export const SEPARATION_RULE =
  'not separated: the difference of the means is smaller than the sum of their sample standard deviations';
