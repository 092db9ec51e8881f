/**
 * A radix-2 complex FFT on float64 arrays, in place, two stages per pass over the data: our own
 * kernel, because TF.js's rfft transforms the innermost axis only and has no kernel on the wasm
 * backend (the host of the kernels engine) at all. Plans (bit reversal and twiddles) are
 * computed once per size.
 */

export interface FftPlan {
  readonly size: number;
  readonly reversed: Uint32Array;
  /** In bit-reversed order, the slot of frequency −f for the slot of f (an involution). */
  readonly negated: Uint32Array;
  /**
   * The forward twiddles stage by stage, contiguous: the stage of butterflies `half` apart reads
   * entries half − 1 … 2·half − 2, cos and −sin of 2πk/(2·half) for k < half, in order (one
   * table of 2πk/size would be read at a stride of size / (2·half)).
   */
  readonly stageCos: Float64Array;
  readonly stageSin: Float64Array;
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
    const stageCos = new Float64Array(Math.max(0, size - 1));
    const stageSin = new Float64Array(Math.max(0, size - 1));
    for (let h = 1; h < size; h <<= 1)
      for (let k = 0; k < h; k++) {
        stageCos[h - 1 + k] = cos[(k * size) / (2 * h)]!;
        stageSin[h - 1 + k] = sin[(k * size) / (2 * h)]!;
      }
    plan = { size, reversed, negated, stageCos, stageSin };
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
  const { reversed, stageCos, stageSin } = fftPlan(n);
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
  decimationInTime(re, im, stageCos, stageSin, inverse ? -1 : 1);
  if (inverse) scaleBy(re, im, 1 / n);
}

/** The radix-2 stage of butterflies one apart, whose twiddles are all 1: adds and subtracts. */
function unitStage(re: Float64Array, im: Float64Array): void {
  for (let a = 0; a + 1 < re.length; a += 2) {
    const b = a + 1;
    const xr = re[a]! - re[b]!;
    const xi = im[a]! - im[b]!;
    re[a]! += re[b]!;
    im[a]! += im[b]!;
    re[b] = xr;
    im[b] = xi;
  }
}

/**
 * The butterflies of a decimation-in-time FFT on bit-reversed input, leaving natural order;
 * `sign` −1 conjugates the twiddles (the inverse transform, without its 1/N). Two radix-2
 * stages (butterflies h and 2h apart) run as one pass over each group of four values, the same
 * operations in the same order as stage after stage, with half the loads and stores; an odd
 * number of stages starts with the stage one apart, whose twiddles are 1.
 */
function decimationInTime(
  re: Float64Array,
  im: Float64Array,
  stageCos: Float64Array,
  stageSin: Float64Array,
  sign: 1 | -1,
): void {
  const n = re.length;
  let h = 1;
  if (Math.log2(n) % 2 === 1) {
    unitStage(re, im);
    h = 2;
  }
  for (; 2 * h < n; h <<= 2)
    for (let start = 0; start < n; start += 4 * h)
      for (let k = 0; k < h; k++) {
        const a0 = start + k;
        const a1 = a0 + h;
        const a2 = a1 + h;
        const a3 = a2 + h;
        // Stage h: (a0, a1) and (a2, a3), twiddle k of 2h.
        let wr = stageCos[h - 1 + k]!;
        let wi = sign * stageSin[h - 1 + k]!;
        let xr = re[a1]! * wr - im[a1]! * wi;
        let xi = re[a1]! * wi + im[a1]! * wr;
        const r1 = re[a0]! - xr;
        const i1 = im[a0]! - xi;
        const r0 = re[a0]! + xr;
        const i0 = im[a0]! + xi;
        xr = re[a3]! * wr - im[a3]! * wi;
        xi = re[a3]! * wi + im[a3]! * wr;
        const r3 = re[a2]! - xr;
        const i3 = im[a2]! - xi;
        const r2 = re[a2]! + xr;
        const i2 = im[a2]! + xi;
        // Stage 2h: (a0, a2) with twiddle k of 4h, (a1, a3) with twiddle k + h.
        wr = stageCos[2 * h - 1 + k]!;
        wi = sign * stageSin[2 * h - 1 + k]!;
        xr = r2 * wr - i2 * wi;
        xi = r2 * wi + i2 * wr;
        re[a2] = r0 - xr;
        im[a2] = i0 - xi;
        re[a0] = r0 + xr;
        im[a0] = i0 + xi;
        wr = stageCos[3 * h - 1 + k]!;
        wi = sign * stageSin[3 * h - 1 + k]!;
        xr = r3 * wr - i3 * wi;
        xi = r3 * wi + i3 * wr;
        re[a3] = r1 - xr;
        im[a3] = i1 - xi;
        re[a1] = r1 + xr;
        im[a1] = i1 + xi;
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
  const { stageCos, stageSin } = fftPlan(n);
  // Blocks outside, butterflies inside: each block's span stays in cache (the other order reads
  // the whole array once per twiddle and is several times slower at 2¹⁴ points). Two radix-2
  // stages (butterflies 2q and q apart) run as one pass over each group of four values, the
  // same operations in the same order as stage after stage, with half the loads and stores; an
  // odd number of stages ends with the stage one apart, whose twiddles are 1.
  let q = n >> 2;
  for (; q >= 1; q >>= 2)
    for (let start = 0; start < n; start += 4 * q)
      for (let k = 0; k < q; k++) {
        const a0 = start + k;
        const a1 = a0 + q;
        const a2 = a1 + q;
        const a3 = a2 + q;
        // Stage 2q: (a0, a2) with twiddle k of 4q, (a1, a3) with twiddle k + q.
        let wr = stageCos[2 * q - 1 + k]!;
        let wi = stageSin[2 * q - 1 + k]!;
        let xr = re[a0]! - re[a2]!;
        let xi = im[a0]! - im[a2]!;
        const r0 = re[a0]! + re[a2]!;
        const i0 = im[a0]! + im[a2]!;
        const r2 = xr * wr - xi * wi;
        const i2 = xr * wi + xi * wr;
        wr = stageCos[3 * q - 1 + k]!;
        wi = stageSin[3 * q - 1 + k]!;
        xr = re[a1]! - re[a3]!;
        xi = im[a1]! - im[a3]!;
        const r1 = re[a1]! + re[a3]!;
        const i1 = im[a1]! + im[a3]!;
        const r3 = xr * wr - xi * wi;
        const i3 = xr * wi + xi * wr;
        // Stage q: (a0, a1) and (a2, a3), twiddle k of 2q.
        wr = stageCos[q - 1 + k]!;
        wi = stageSin[q - 1 + k]!;
        re[a0] = r0 + r1;
        im[a0] = i0 + i1;
        xr = r0 - r1;
        xi = i0 - i1;
        re[a1] = xr * wr - xi * wi;
        im[a1] = xr * wi + xi * wr;
        re[a2] = r2 + r3;
        im[a2] = i2 + i3;
        xr = r2 - r3;
        xi = i2 - i3;
        re[a3] = xr * wr - xi * wi;
        im[a3] = xr * wi + xi * wr;
      }
  if (Math.log2(n) % 2 === 1) unitStage(re, im);
}

/** In place, the inverse DFT (with the 1/N) of a bit-reversed spectrum, in natural order. */
export function inverseFromBitReversed(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (im.length !== n) throw new Error(`fft: re has ${n} values, im ${im.length}`);
  const { stageCos, stageSin } = fftPlan(n);
  decimationInTime(re, im, stageCos, stageSin, -1);
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
