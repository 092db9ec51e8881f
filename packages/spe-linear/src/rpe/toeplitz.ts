/**
 * Products with a Toeplitz matrix by FFT, for inputs on integer positions: out_i = Σ_j
 * c(p_j − p'_i)·x_j for inputs at positions p_j and outputs at p'_i, in O(G log G) per channel
 * where G spans the positions (gaps, as in sampled segments, are empty grid slots). This is
 * the kernel of kernelized attention with relative positions (Luo et al. 2021): TF.js has no FFT
 * on the wasm backend and only an innermost-axis rfft elsewhere, so the whole product — scatter to
 * the grid, FFT, multiply, inverse FFT, gather — runs here on float64, with its gradient.
 */
import { tf } from '@posenc/core';
import { fftPlan, fftToBitReversed, inverseFromBitReversed, nextPowerOfTwo } from '../fft/fft.js';

/**
 * One row and head's Toeplitz weighting: the FFT size, the spectrum of
 * `a` (once per call, shared by the numerator and the normaliser), and the work buffers (once per
 * call, not per channel). `apply` runs two real channels through one complex FFT, packed as
 * re + i·im, in bit-reversed frequency order (no permutation pass).
 */
class ToeplitzWeighting {
  private readonly size: number;
  private readonly ar: Float64Array;
  private readonly ai: Float64Array;
  private readonly negated: Uint32Array;
  readonly re: Float64Array;
  readonly im: Float64Array;

  constructor(a: Float64Array, gridIn: number, gridOut: number) {
    this.size = nextPowerOfTwo(gridIn + gridOut - 1);
    this.negated = fftPlan(this.size).negated;
    this.ar = new Float64Array(this.size);
    this.ai = new Float64Array(this.size);
    this.ar.set(a);
    fftToBitReversed(this.ar, this.ai);
    this.re = new Float64Array(this.size);
    this.im = new Float64Array(this.size);
  }

  /** Clears the buffers for the next pair of channels. */
  clear(): void {
    this.re.fill(0);
    this.im.fill(0);
  }

  /**
   * (re, im) ← the correlation of each packed real channel with a: IFFT(A·conj X) per channel;
   * for the packed Z = X₁ + iX₂, conj(X₁) + i·conj(X₂) is Z at −f, so one product and one
   * inverse serve both channels.
   */
  apply(): void {
    const { re, im, ar, ai, negated, size } = this;
    fftToBitReversed(re, im);
    for (let f = 0; f < size; f++) {
      const g = negated[f]!;
      if (g < f) continue;
      const zr = re[f]!;
      const zi = im[f]!;
      const wr = re[g]!;
      const wi = im[g]!;
      re[f] = ar[f]! * wr - ai[f]! * wi;
      im[f] = ar[f]! * wi + ai[f]! * wr;
      if (g !== f) {
        re[g] = ar[g]! * zr - ai[g]! * zi;
        im[g] = ar[g]! * zi + ai[g]! * zr;
      }
    }
    inverseFromBitReversed(re, im);
  }
}

/**
 * On one batch row, with inputs at grid slots `inIndex` (of a grid of `gridIn`) and outputs at
 * `outIndex` (of `gridOut`): out[i, c] = Σ_j a[inIndex_j − outIndex_i + gridOut − 1]·src[j, c],
 * `a` of length gridIn + gridOut − 1. Two real channels share each complex FFT.
 */
export function toeplitzChannels(
  a: Float64Array,
  gridIn: number,
  gridOut: number,
  inIndex: Int32Array,
  outIndex: Int32Array,
  src: Float32Array,
  srcOffset: number,
  dst: Float32Array,
  dstOffset: number,
  channels: number,
): void {
  const weighting = new ToeplitzWeighting(a, gridIn, gridOut);
  const { re, im } = weighting;
  for (let c0 = 0; c0 < channels; c0 += 2) {
    const pair = c0 + 1 < channels;
    weighting.clear();
    for (let j = 0; j < inIndex.length; j++) {
      const at = srcOffset + j * channels + c0;
      re[inIndex[j]!]! += src[at]!;
      if (pair) im[inIndex[j]!]! += src[at + 1]!;
    }
    weighting.apply();
    for (let i = 0; i < outIndex.length; i++) {
      const slot = gridOut - 1 - outIndex[i]!;
      const at = dstOffset + i * channels + c0;
      dst[at] = re[slot]!;
      if (pair) dst[at + 1] = im[slot]!;
    }
  }
}

/**
 * The gradient of `toeplitzChannels` with respect to `a`: da[t] = Σ over (i, j) with
 * inIndex_j − outIndex_i + gridOut − 1 = t of Σ_c dOut[i, c]·src[j, c], by FFT correlation.
 */
export function toeplitzCoefficientGradient(
  gridIn: number,
  gridOut: number,
  inIndex: Int32Array,
  outIndex: Int32Array,
  src: Float32Array,
  srcOffset: number,
  dOut: Float32Array,
  dOutOffset: number,
  channels: number,
): Float64Array {
  const size = nextPowerOfTwo(gridIn + gridOut - 1);
  const { negated } = fftPlan(size);
  const sumRe = new Float64Array(size);
  const sumIm = new Float64Array(size);
  const xr = new Float64Array(size);
  const xi = new Float64Array(size);
  const dr = new Float64Array(size);
  const di = new Float64Array(size);
  for (let c0 = 0; c0 < channels; c0 += 2) {
    const pair = c0 + 1 < channels;
    xr.fill(0);
    xi.fill(0);
    dr.fill(0);
    di.fill(0);
    for (let j = 0; j < inIndex.length; j++) {
      const at = srcOffset + j * channels + c0;
      xr[inIndex[j]!]! += src[at]!;
      if (pair) xi[inIndex[j]!]! += src[at + 1]!;
    }
    for (let i = 0; i < outIndex.length; i++) {
      const at = dOutOffset + i * channels + c0;
      dr[outIndex[i]!]! += dOut[at]!;
      if (pair) di[outIndex[i]!]! += dOut[at + 1]!;
    }
    fftToBitReversed(xr, xi);
    fftToBitReversed(dr, di);
    // Σ_c conj(D_c)·X_c with each real channel's spectrum unpacked from the pair's (slot g
    // holds −f: the order of the slots does not matter to a pointwise sum).
    for (let f = 0; f < size; f++) {
      const g = negated[f]!;
      const x1r = (xr[f]! + xr[g]!) / 2;
      const x1i = (xi[f]! - xi[g]!) / 2;
      const x2r = (xi[f]! + xi[g]!) / 2;
      const x2i = -(xr[f]! - xr[g]!) / 2;
      const d1r = (dr[f]! + dr[g]!) / 2;
      const d1i = (di[f]! - di[g]!) / 2;
      const d2r = (di[f]! + di[g]!) / 2;
      const d2i = -(dr[f]! - dr[g]!) / 2;
      sumRe[f]! += d1r * x1r + d1i * x1i + d2r * x2r + d2i * x2i;
      sumIm[f]! += d1r * x1i - d1i * x1r + d2r * x2i - d2i * x2r;
    }
  }
  inverseFromBitReversed(sumRe, sumIm);
  const length = gridIn + gridOut - 1;
  const da = new Float64Array(length);
  for (let t = 0; t < length; t++) da[t] = sumRe[(t - gridOut + 1 + size) % size]!;
  return da;
}

/** Integer positions of the inputs (keys) and outputs (queries) of each batch row. */
export interface ToeplitzLayout {
  readonly inputPositions: readonly Int32Array[];
  readonly outputPositions: readonly Int32Array[];
  /** The offset p_in − p_out of the coefficients' first column. */
  readonly offsetMin: number;
}

/** The offsets every row needs, [min p_in − max p_out, max p_in − min p_out]. */
export function offsetRange(
  inputPositions: readonly Int32Array[],
  outputPositions: readonly Int32Array[],
): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  inputPositions.forEach((pin, b) => {
    const pout = outputPositions[b]!;
    const [inLo, inHi] = bounds(pin);
    const [outLo, outHi] = bounds(pout);
    min = Math.min(min, inLo - outHi);
    max = Math.max(max, inHi - outLo);
  });
  return { min, max };
}

function bounds(p: Int32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of p) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  return [lo, hi];
}

/** One row's grids and its `a` (of one head) taken from the dense coefficients. */
function rowGrids(layout: ToeplitzLayout, b: number) {
  const pin = layout.inputPositions[b]!;
  const pout = layout.outputPositions[b]!;
  const [inLo, inHi] = bounds(pin);
  const [outLo, outHi] = bounds(pout);
  const gridIn = inHi - inLo + 1;
  const gridOut = outHi - outLo + 1;
  // a[t] is the coefficient of offset t − (gridOut − 1) + inLo − outLo.
  const first = inLo - outLo - (gridOut - 1) - layout.offsetMin;
  return {
    gridIn,
    gridOut,
    inIndex: Int32Array.from(pin, (p) => p - inLo),
    outIndex: Int32Array.from(pout, (p) => p - outLo),
    first,
    length: gridIn + gridOut - 1,
  };
}

/**
 * `[B, H, N_out, C]` = Σ_j c[h, p_in_j − p_out_i − offsetMin]·x[b, h, j, :], for coefficients
 * `[H, T]` covering every row's offsets and x `[B, H, N_in, C]`; differentiable in both.
 */
export function toeplitzProduct(
  coefficients: tf.Tensor2D,
  x: tf.Tensor4D,
  layout: ToeplitzLayout,
): tf.Tensor4D {
  const [b, h, nIn, channels] = x.shape;
  const width = coefficients.shape[1];
  if (coefficients.shape[0] !== h)
    throw new Error(`toeplitzProduct: ${coefficients.shape[0]} coefficient rows for ${h} heads`);
  if (layout.inputPositions.length !== b || layout.outputPositions.length !== b)
    throw new Error(`toeplitzProduct: the layout has ${layout.inputPositions.length} rows, x ${b}`);
  const nOut = layout.outputPositions[0]!.length;
  const rows = Array.from({ length: b }, (_, r) => rowGrids(layout, r));
  for (const row of rows)
    if (row.first < 0 || row.first + row.length > width)
      throw new Error(
        `toeplitzProduct: coefficients cover offsets ${layout.offsetMin}…${layout.offsetMin + width - 1}, a row needs more`,
      );
  const aOf = (c: Float32Array, head: number, row: (typeof rows)[number]) =>
    Float64Array.from(c.subarray(head * width + row.first, head * width + row.first + row.length));

  const product = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [cIn, xIn, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([cIn, xIn]);
    const c = cIn.dataSync() as Float32Array;
    const src = xIn.dataSync() as Float32Array;
    const out = new Float32Array(b * h * nOut * channels);
    rows.forEach((row, r) => {
      for (let head = 0; head < h; head++)
        toeplitzChannels(
          aOf(c, head, row),
          row.gridIn,
          row.gridOut,
          row.inIndex,
          row.outIndex,
          src,
          (r * h + head) * nIn * channels,
          out,
          (r * h + head) * nOut * channels,
          channels,
        );
    });
    return {
      value: tf.tensor4d(out, [b, h, nOut, channels]),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const cs = saved[0]!.dataSync() as Float32Array;
        const xs = saved[1]!.dataSync() as Float32Array;
        const d = (dy as tf.Tensor).dataSync() as Float32Array;
        const dx = new Float32Array(b * h * nIn * channels);
        const dc = new Float32Array(h * width);
        rows.forEach((row, r) => {
          for (let head = 0; head < h; head++) {
            // The transposed product: outputs become inputs, and a is read backwards.
            const a = aOf(cs, head, row).reverse();
            toeplitzChannels(
              a,
              row.gridOut,
              row.gridIn,
              row.outIndex,
              row.inIndex,
              d,
              (r * h + head) * nOut * channels,
              dx,
              (r * h + head) * nIn * channels,
              channels,
            );
            const da = toeplitzCoefficientGradient(
              row.gridIn,
              row.gridOut,
              row.inIndex,
              row.outIndex,
              xs,
              (r * h + head) * nIn * channels,
              d,
              (r * h + head) * nOut * channels,
              channels,
            );
            for (let t = 0; t < row.length; t++) dc[head * width + row.first + t]! += da[t]!;
          }
        });
        return [tf.tensor2d(dc, [h, width]), tf.tensor4d(dx, [b, h, nIn, channels])];
      },
    };
  });
  return product(coefficients, x) as tf.Tensor4D;
}

/** Kernelized attention's features and values, `[B, H, N, ·]`. */
export interface ToeplitzAttentionInputs {
  readonly numeratorQ: tf.Tensor4D;
  readonly numeratorK: tf.Tensor4D;
  readonly denominatorQ: tf.Tensor4D;
  readonly denominatorK: tf.Tensor4D;
  readonly v: tf.Tensor4D;
}

/**
 * Forward only, fused: numerator_i = Σ_a φ(q_i)_a Σ_j c_{p_j − p_i} φ(k_j)_a v_j `[B, H, Nq, Dv]`
 * and normaliser_i = Σ_a φ(q_i)_a Σ_j c_{p_j − p_i} φ(k_j)_a `[B, H, Nq, 1]`. The m·Dv + m channels
 * of [φ(k)⊗v, φ(k)] are formed two at a time inside the FFT buffers and read out against φ(q)
 * at once, so neither the channels nor their weighted sums ([N, m·Dv] each) are ever stored: the
 * memory is O(N·(m + Dv)) instead of O(N·m·Dv). No gradient: the differentiable form is
 * `toeplitzProduct` over the stored channels.
 */
export function toeplitzAttentionSums(
  coefficients: tf.Tensor2D,
  inputs: ToeplitzAttentionInputs,
  layout: ToeplitzLayout,
): { numerator: tf.Tensor4D; denominator: tf.Tensor4D } {
  const [b, h, nq, m] = inputs.numeratorQ.shape;
  const [, , nk] = inputs.numeratorK.shape;
  const md = inputs.denominatorQ.shape[3];
  const dv = inputs.v.shape[3];
  const width = coefficients.shape[1];
  const rows = Array.from({ length: b }, (_, r) => rowGrids(layout, r));
  // Channel-major copies, so that each channel is read contiguously.
  const read = (t: tf.Tensor4D) =>
    tf.tidy(() => t.transpose([0, 1, 3, 2])).dataSync() as Float32Array;
  const [qn, kn, qd, kd, vt] = [
    read(inputs.numeratorQ),
    read(inputs.numeratorK),
    read(inputs.denominatorQ),
    read(inputs.denominatorK),
    read(inputs.v),
  ];
  const c = coefficients.dataSync() as Float32Array;
  const numerator = new Float32Array(b * h * dv * nq);
  const denominator = new Float32Array(b * h * nq);
  rows.forEach((row, r) => {
    for (let head = 0; head < h; head++) {
      const a = Float64Array.from(
        c.subarray(head * width + row.first, head * width + row.first + row.length),
      );
      const weighting = new ToeplitzWeighting(a, row.gridIn, row.gridOut);
      const { re, im } = weighting;
      const slots = Int32Array.from(row.outIndex, (o) => row.gridOut - 1 - o);
      const slab = r * h + head;
      const num = numerator.subarray(slab * dv * nq, (slab + 1) * dv * nq);
      const den = denominator.subarray(slab * nq, (slab + 1) * nq);
      for (let f = 0; f < m; f++) {
        const kf = kn.subarray((slab * m + f) * nk, (slab * m + f + 1) * nk);
        const qf = qn.subarray((slab * m + f) * nq, (slab * m + f + 1) * nq);
        for (let e = 0; e < dv; e += 2) {
          const pair = e + 1 < dv;
          const v1 = vt.subarray((slab * dv + e) * nk, (slab * dv + e + 1) * nk);
          const v2 = pair ? vt.subarray((slab * dv + e + 1) * nk, (slab * dv + e + 2) * nk) : v1;
          weighting.clear();
          for (let j = 0; j < nk; j++) {
            const slot = row.inIndex[j]!;
            re[slot] = kf[j]! * v1[j]!;
            if (pair) im[slot] = kf[j]! * v2[j]!;
          }
          weighting.apply();
          const out1 = e * nq;
          const out2 = (e + 1) * nq;
          for (let i = 0; i < nq; i++) {
            const slot = slots[i]!;
            num[out1 + i]! += qf[i]! * re[slot]!;
            if (pair) num[out2 + i]! += qf[i]! * im[slot]!;
          }
        }
      }
      for (let f = 0; f < md; f += 2) {
        const pair = f + 1 < md;
        const k1 = kd.subarray((slab * md + f) * nk, (slab * md + f + 1) * nk);
        const k2 = pair ? kd.subarray((slab * md + f + 1) * nk, (slab * md + f + 2) * nk) : k1;
        const q1 = qd.subarray((slab * md + f) * nq, (slab * md + f + 1) * nq);
        const q2 = pair ? qd.subarray((slab * md + f + 1) * nq, (slab * md + f + 2) * nq) : q1;
        weighting.clear();
        for (let j = 0; j < nk; j++) {
          const slot = row.inIndex[j]!;
          re[slot] = k1[j]!;
          if (pair) im[slot] = k2[j]!;
        }
        weighting.apply();
        for (let i = 0; i < nq; i++) {
          const slot = slots[i]!;
          den[i]! += q1[i]! * re[slot]! + (pair ? q2[i]! * im[slot]! : 0);
        }
      }
    }
  });
  return tf.tidy(() => ({
    numerator: tf.tensor4d(numerator, [b, h, dv, nq]).transpose([0, 1, 3, 2]) as tf.Tensor4D,
    denominator: tf.tensor4d(denominator, [b, h, nq, 1]),
  }));
}
