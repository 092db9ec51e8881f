/**
 * The piecewise index function g of iRPE (Wu et al. 2021, Eq. 18), as the official code computes
 * it (`piecewise_index` in microsoft/Cream `iRPE/DeiT-with-iRPE/irpe.py`), not as the formula
 * reads: x is rounded where |x| ≤ α; beyond, the magnitude α + ln(|x|/α)/ln(γ/α)·(β − α) is
 * rounded half to even (torch.round), clipped at the float β, signed, and truncated toward zero
 * by the cast to an integer, so the ids lie in [−⌊β⌋, ⌊β⌋]. The arithmetic is float32, as torch
 * does it on the int64 offsets and float32 distances it is given.
 */

/** The coefficients of g: α = ratio, β = 2·ratio, γ = 8·ratio (the paper's 1:2:8, §4.1). */
export interface PiecewiseCoefficients {
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
}

export function coefficientsOf(ratio: number): PiecewiseCoefficients {
  return { alpha: 1 * ratio, beta: 2 * ratio, gamma: 8 * ratio };
}

/** torch.round: halves go to the even neighbour (JS's Math.round sends them up). */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

const f32 = Math.fround;

/** g(x) for one relative position or distance x. */
export function piecewiseIndex(x: number, c: PiecewiseCoefficients): number {
  const magnitude = Math.abs(x);
  const alpha = f32(c.alpha);
  if (magnitude <= alpha) return roundHalfEven(x);
  const logRatio = f32(Math.log(c.gamma / c.alpha));
  const scaled = f32(f32(f32(Math.log(f32(magnitude / alpha))) / logRatio) * f32(c.beta - c.alpha));
  const clipped = Math.min(roundHalfEven(f32(alpha + scaled)), f32(c.beta));
  return Math.trunc(Math.sign(x) * clipped);
}
