/**
 * Products with a Toeplitz matrix by FFT, for inputs on integer positions: out_i = Σ_j
 * c(p_j − p'_i)·x_j for inputs at positions p_j and outputs at p'_i, in O(G log G) per channel
 * where G spans the positions (gaps, as in sampled segments, are empty grid slots). This is
 * the kernel of kernelized attention with relative positions (Luo et al. 2021): TF.js has no FFT
 * on the wasm backend and only an innermost-axis rfft elsewhere, so the whole product — scatter to
 * the grid, FFT, multiply, inverse FFT, gather — runs here on float64, with its gradient.
 */
import { tf } from '@posenc/core';
import { fft, nextPowerOfTwo } from '../fft/fft.js';

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
  const size = nextPowerOfTwo(gridIn + gridOut - 1);
  const ar = new Float64Array(size);
  const ai = new Float64Array(size);
  ar.set(a);
  fft(ar, ai);
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  for (let c0 = 0; c0 < channels; c0 += 2) {
    const pair = c0 + 1 < channels;
    re.fill(0);
    im.fill(0);
    for (let j = 0; j < inIndex.length; j++) {
      const at = srcOffset + j * channels + c0;
      re[inIndex[j]!]! += src[at]!;
      if (pair) im[inIndex[j]!]! += src[at + 1]!;
    }
    fft(re, im);
    // Correlation of each real channel with a is IFFT(A·conj(X)); for the packed Z = X₁ + iX₂,
    // conj(X₁) + i·conj(X₂) is Z at −f, so one product and one inverse serve both channels.
    for (let f = 0; f <= size / 2; f++) {
      const g = (size - f) % size;
      const [zr, zi, wr, wi] = [re[f]!, im[f]!, re[g]!, im[g]!];
      re[f] = ar[f]! * wr - ai[f]! * wi;
      im[f] = ar[f]! * wi + ai[f]! * wr;
      if (g !== f) {
        re[g] = ar[g]! * zr - ai[g]! * zi;
        im[g] = ar[g]! * zi + ai[g]! * zr;
      }
    }
    fft(re, im, true);
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
    fft(xr, xi);
    fft(dr, di);
    // Σ_c conj(D_c)·X_c with each real channel's spectrum unpacked from the pair's.
    for (let f = 0; f < size; f++) {
      const g = (size - f) % size;
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
  fft(sumRe, sumIm, true);
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
