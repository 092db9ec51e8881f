/**
 * A radix-2 complex FFT on float64 arrays, in place: our own kernel, because TF.js's rfft
 * transforms the innermost axis only and has no kernel on the wasm backend (the host of the
 * kernels engine) at all. Plans (bit reversal and twiddles) are computed once per size.
 */

export interface FftPlan {
  readonly size: number;
  readonly reversed: Uint32Array;
  /** In bit-reversed order, the slot of frequency −f for the slot of f (an involution). */
  readonly negated: Uint32Array;
  /** cos and −sin of 2πk/size for k < size/2 (the forward twiddles). */
  readonly cos: Float64Array;
  readonly sin: Float64Array;
}

const plans = new Map<number, FftPlan>();

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/** The smallest power of two ≥ n. */
export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export function fftPlan(size: number): FftPlan {
  if (!isPowerOfTwo(size)) throw new Error(`fft: size ${size} is not a power of two`);
  let plan = plans.get(size);
  if (!plan) {
    const bits = Math.log2(size);
    const reversed = new Uint32Array(size);
    for (let i = 0; i < size; i++) {
      let r = 0;
      for (let b = 0, x = i; b < bits; b++, x >>= 1) r = (r << 1) | (x & 1);
      reversed[i] = r;
    }
    const half = size / 2;
    const cos = new Float64Array(half);
    const sin = new Float64Array(half);
    for (let k = 0; k < half; k++) {
      cos[k] = Math.cos((2 * Math.PI * k) / size);
      sin[k] = -Math.sin((2 * Math.PI * k) / size);
    }
    const negated = Uint32Array.from(reversed, (f) => reversed[(size - f) % size]!);
    plan = { size, reversed, negated, cos, sin };
    plans.set(size, plan);
  }
  return plan;
}

/**
 * In place: (re, im) ← DFT (forward, X_k = Σ x_n e^(−2πikn/N)) or its inverse (with the 1/N).
 */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  if (im.length !== n) throw new Error(`fft: re has ${n} values, im ${im.length}`);
  const { reversed, cos, sin } = fftPlan(n);
  for (let i = 0; i < n; i++) {
    const j = reversed[i]!;
    if (j > i) {
      let t = re[i]!;
      re[i] = re[j]!;
      re[j] = t;
      t = im[i]!;
      im[i] = im[j]!;
      im[j] = t;
    }
  }
  decimationInTime(re, im, cos, sin, inverse ? -1 : 1);
  if (inverse) scaleBy(re, im, 1 / n);
}

/**
 * The butterflies of a decimation-in-time FFT on bit-reversed input, leaving natural order;
 * `sign` −1 conjugates the twiddles (the inverse transform, without its 1/N).
 */
function decimationInTime(
  re: Float64Array,
  im: Float64Array,
  cos: Float64Array,
  sin: Float64Array,
  sign: 1 | -1,
): void {
  const n = re.length;
  for (let half = 1, stride = n >> 1; half < n; half <<= 1, stride >>= 1)
    for (let start = 0; start < n; start += 2 * half)
      for (let k = 0; k < half; k++) {
        const wr = cos[k * stride]!;
        const wi = sign * sin[k * stride]!;
        const a = start + k;
        const b = a + half;
        const xr = re[b]! * wr - im[b]! * wi;
        const xi = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - xr;
        im[b] = im[a]! - xi;
        re[a]! += xr;
        im[a]! += xi;
      }
}

/** (re, im) ← scale·(re, im); scale is 1/N, a power of two, so this equals dividing by N. */
function scaleBy(re: Float64Array, im: Float64Array, scale: number): void {
  for (let i = 0; i < re.length; i++) {
    re[i]! *= scale;
    im[i]! *= scale;
  }
}

/**
 * In place, the forward DFT of natural-order (re, im) left in bit-reversed order (slot i holds
 * frequency reversed[i]): decimation in frequency, no permutation pass. With
 * `inverseFromBitReversed` it gives a convolution with no bit reversal at all, since a pointwise
 * product does not care about the order of the frequencies.
 */
export function fftToBitReversed(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (im.length !== n) throw new Error(`fft: re has ${n} values, im ${im.length}`);
  const { cos, sin } = fftPlan(n);
  // Blocks outside, butterflies inside: each block's span stays in cache (the other order reads
  // the whole array once per twiddle and is several times slower at 2¹⁴ points).
  for (let half = n >> 1, stride = 1; half >= 1; half >>= 1, stride <<= 1)
    for (let start = 0; start < n; start += 2 * half)
      for (let k = 0; k < half; k++) {
        const wr = cos[k * stride]!;
        const wi = sin[k * stride]!;
        const a = start + k;
        const b = a + half;
        const xr = re[a]! - re[b]!;
        const xi = im[a]! - im[b]!;
        re[a]! += re[b]!;
        im[a]! += im[b]!;
        re[b] = xr * wr - xi * wi;
        im[b] = xr * wi + xi * wr;
      }
}

/** In place, the inverse DFT (with the 1/N) of a bit-reversed spectrum, in natural order. */
export function inverseFromBitReversed(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (im.length !== n) throw new Error(`fft: re has ${n} values, im ${im.length}`);
  const { cos, sin } = fftPlan(n);
  decimationInTime(re, im, cos, sin, -1);
  scaleBy(re, im, 1 / n);
}

/** The direct O(N²) DFT, the reference the FFT is tested against. */
export function directDft(
  re: ArrayLike<number>,
  im: ArrayLike<number>,
  inverse = false,
): { re: Float64Array; im: Float64Array } {
  const n = re.length;
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  const sign = inverse ? 1 : -1;
  for (let k = 0; k < n; k++) {
    let sr = 0;
    let si = 0;
    for (let t = 0; t < n; t++) {
      const angle = (sign * 2 * Math.PI * ((k * t) % n)) / n;
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      sr += re[t]! * c - im[t]! * s;
      si += re[t]! * s + im[t]! * c;
    }
    outRe[k] = inverse ? sr / n : sr;
    outIm[k] = inverse ? si / n : si;
  }
  return { re: outRe, im: outIm };
}
