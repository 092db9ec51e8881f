/**
 * SPE's defining property: over realisations, E[q̂(m)·k̂(n)] = R·Σ_d q_d k_d P_d(m − n), the
 * kernel its parameters imply (per realisation P_d is sineSPE's (1/2K)Σλ²cos(2πf(m−n)+θ)/√(RD),
 * convSPE's filter cross-correlation (φ_q ⋆ φ_k)(m − n)/√(RD), and the gate mixes in g/√(RD)).
 * The empirical mean is taken over T draws × R realisations from fixed seeds, so the test cannot
 * flake; the tolerance is stated per score: |mean − kernel| ≤ 4 standard errors of the mean, and
 * the whole matrix within 8% of its largest entry (64 draws of 256).
 */
import { describe, expect, it } from 'vitest';
import { createFromDefinition, sequencePositions, tf } from '@posenc/core';
import {
  attentionContext,
  disposeAttentionContext,
  onCpuWithoutLeaks,
  testBuildSpec,
} from '@posenc/core/testing';
import { sineKernel } from './sine-spe.js';
import { speDefinition, type SpeEncoding } from './spe-encoding.js';

onCpuWithoutLeaks();

const [HEADS, DIM, N, R, DRAWS] = [1, 3, 8, 256, 64];

function leafOf(encoding: SpeEncoding, suffix: string): tf.Variable {
  return Object.entries(encoding.parameters()).find(([n]) => n.endsWith(suffix))![1];
}

/** Per (m, n): mean and standard error of q̂_r(m)·k̂_r(n)·R over DRAWS·R samples. */
function empirical(encoding: SpeEncoding, q: tf.Tensor4D, k: tf.Tensor4D) {
  const ctx = attentionContext({
    queries: sequencePositions(1, N),
    heads: HEADS,
    headDim: DIM,
    kind: 'linear',
  });
  const sum = new Float64Array(N * N);
  const squares = new Float64Array(N * N);
  for (let draw = 0; draw < DRAWS; draw++) {
    encoding.setDraw(draw);
    const out = encoding.linearQueryKey(q, k, ctx);
    const qh = out.q.dataSync();
    const kh = out.k.dataSync();
    tf.dispose([out.q, out.k]);
    for (let m = 0; m < N; m++)
      for (let n = 0; n < N; n++)
        for (let r = 0; r < R; r++) {
          const x = qh[m * R + r]! * kh[n * R + r]! * R;
          sum[m * N + n] += x;
          squares[m * N + n] += x * x;
        }
  }
  disposeAttentionContext(ctx);
  const count = DRAWS * R;
  const mean = sum.map((s) => s / count);
  const stderr = squares.map((s, i) => Math.sqrt((s / count - mean[i]! ** 2) / (count - 1)));
  return { mean, stderr };
}

function expectConverges(
  kernelOf: (encoding: SpeEncoding, qv: Float32Array, kv: Float32Array) => Float64Array,
  config: Record<string, unknown>,
) {
  const encoding = createFromDefinition(speDefinition, {
    realizations: R,
    sines: 2,
    kernelSize: 3,
    seed: 11,
    ...config,
  }) as SpeEncoding;
  encoding.build(testBuildSpec({ heads: HEADS, headDim: DIM, layers: 1, seed: 5 }));
  const q = tf.randomNormal([1, HEADS, N, DIM], 0, 1, 'float32', 1) as tf.Tensor4D;
  const k = tf.randomNormal([1, HEADS, N, DIM], 0, 1, 'float32', 2) as tf.Tensor4D;
  const exact = kernelOf(encoding, q.dataSync() as Float32Array, k.dataSync() as Float32Array);
  const { mean, stderr } = empirical(encoding, q, k);
  const largest = Math.max(...exact.map(Math.abs));
  let worstRelative = 0;
  for (let i = 0; i < N * N; i++) {
    expect(
      Math.abs(mean[i]! - exact[i]!),
      `score ${i}: ${mean[i]} vs ${exact[i]} (stderr ${stderr[i]})`,
    ).toBeLessThanOrEqual(4 * stderr[i]!);
    worstRelative = Math.max(worstRelative, Math.abs(mean[i]! - exact[i]!) / largest);
  }
  expect(worstRelative).toBeLessThan(0.08);
  tf.dispose([q, k]);
  encoding.dispose();
}

/** R·Σ_d q_d(m) k_d(n) kernel_d(m, n) from a per-dimension kernel `[D, N, N]`. */
function scores(perDim: Float64Array, qv: Float32Array, kv: Float32Array): Float64Array {
  const out = new Float64Array(N * N);
  for (let d = 0; d < DIM; d++)
    for (let m = 0; m < N; m++)
      for (let n = 0; n < N; n++)
        out[m * N + n] += R * qv[m * DIM + d]! * kv[n * DIM + d]! * perDim[(d * N + m) * N + n]!;
  return out;
}

const positions = Array.from({ length: N }, (_, i) => i);

describe('E[q̂·k̂] over realisations converges to the kernel SPE implies', () => {
  it('sineSPE, gated: (1 − g)·P_d(m − n) + g/√(RD)', () => {
    expectConverges(
      (encoding, qv, kv) => {
        const params = {
          freqs: leafOf(encoding, 'spe_freqs') as unknown as tf.Tensor3D,
          offsets: leafOf(encoding, 'spe_offsets') as unknown as tf.Tensor3D,
          gains: leafOf(encoding, 'spe_gains') as unknown as tf.Tensor3D,
        };
        // Frequencies far from the initial ≈0.009, so the kernel visibly oscillates over 8 positions.
        const freqs = leafOf(encoding, 'spe_freqs');
        tf.tidy(() => freqs.assign(tf.fill(freqs.shape, -0.5)));
        const kernel = sineKernel(params, positions, positions, R);
        const g = leafOf(encoding, 'spe_gate')
          .dataSync()
          .map((x) => 1 / (1 + Math.exp(-x)));
        const mixed = kernel.map((p, i) => {
          const d = Math.floor(i / (N * N));
          return (1 - g[d]!) * p + g[d]! / Math.sqrt(R * DIM);
        });
        return scores(mixed, qv, kv);
      },
      { kind: 'sine', gated: true },
    );
  });

  it('convSPE, ungated: the filters’ cross-correlation (φ_q ⋆ φ_k)(m − n)/√(RD)', () => {
    expectConverges(
      (encoding, qv, kv) => {
        const wq = leafOf(encoding, 'spe_filter_q').dataSync();
        const wk = leafOf(encoding, 'spe_filter_k').dataSync();
        const taps = 3;
        const kernel = new Float64Array(DIM * N * N);
        for (let d = 0; d < DIM; d++)
          for (let m = 0; m < N; m++)
            for (let n = 0; n < N; n++) {
              let sum = 0;
              for (let t = 0; t < taps; t++) {
                const s = t + m - n;
                if (s >= 0 && s < taps) sum += wq[d * taps + t]! * wk[d * taps + s]!;
              }
              kernel[(d * N + m) * N + n] = sum / Math.sqrt(R * DIM);
            }
        return scores(kernel, qv, kv);
      },
      { kind: 'conv', gated: false },
    );
  });
});
