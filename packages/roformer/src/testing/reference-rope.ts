import type { RopeLayout } from '../rope/layout.js';

/**
 * RoPE written out from the papers, one vector at a time, in float64: pair i of the rotated
 * slice turns by m·θ_i with θ_i = base^(−2i/d). Interleaved pairs are (2i, 2i+1) (RoFormer
 * Eq. 34); half pairs are (i, i + d/2) (HF LLaMA `rotate_half`).
 */
export function referenceRope(
  x: ArrayLike<number>,
  position: number,
  layout: RopeLayout = 'interleaved',
  start = 0,
  rotaryDim = x.length - start,
  base = 10000,
): number[] {
  const y = Array.from(x);
  for (let i = 0; i < rotaryDim / 2; i++) {
    const angle = position * Math.pow(base, (-2 * i) / rotaryDim);
    const [a, b] =
      layout === 'interleaved'
        ? [start + 2 * i, start + 2 * i + 1]
        : [start + i, start + i + rotaryDim / 2];
    y[a] = x[a]! * Math.cos(angle) - x[b]! * Math.sin(angle);
    y[b] = x[b]! * Math.cos(angle) + x[a]! * Math.sin(angle);
  }
  return y;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
