/**
 * Every case of the shared golden/spe folder (aliutkus/spe's PyTorch code in float64), with the
 * settings stored in the case: the `spe` encoding, given the case's parameters and its stored
 * noise, reproduces the official q̂ and k̂ through core's linear hook, and the code itself (q̄, k̄).
 */
import { describe, expect, it } from 'vitest';
import { sequencePositions, tf } from '@posenc/core';
import {
  attentionContext,
  disposeAttentionContext,
  expectClose,
  goldenCaseFiles,
  goldenEntry,
  goldenTensor,
  goldenValues,
  onCpuWithoutLeaks,
  readGoldenCase,
  testBuildSpec,
  type GoldenCase,
} from '@posenc/core/testing';
import { ReplayedNoise } from '../testing/replayed-noise.js';
import { convCodes1d, convNoise1d } from './conv-spe.js';
import { sineCode } from './sine-spe.js';
import { speDefinition, SpeEncoding } from './spe-encoding.js';

onCpuWithoutLeaks();

const TOLERANCE = { atol: 1e-5 };

interface CaseSettings {
  kind: 'sine' | 'conv';
  num_heads: number;
  in_features: number;
  num_realizations: number;
  num_sines?: number;
  kernel_size?: number;
  gated: boolean;
  length: number;
}

/** The encoding the case describes, with the case's parameters in its variables. */
function encodingFor(golden: GoldenCase): SpeEncoding {
  const c = golden.config as unknown as CaseSettings;
  const encoding = speDefinition.create({
    kind: c.kind,
    realizations: c.num_realizations,
    sines: c.num_sines ?? 1,
    kernelSize: c.kernel_size ?? 1,
    gated: c.gated,
    shared: true,
    seed: 0,
  }) as SpeEncoding;
  encoding.build(testBuildSpec({ heads: c.num_heads, headDim: c.in_features, layers: 1 }));
  // The official conv_k makes q̄ and conv_q makes k̄ (see conv-spe.ts).
  const stored: Record<string, string> = {
    spe_freqs: 'freqs',
    spe_offsets: 'offsets',
    spe_gains: 'gains',
    spe_filter_q: 'conv_k.weight',
    spe_filter_k: 'conv_q.weight',
    spe_gate: 'gate',
  };
  for (const [name, variable] of Object.entries(encoding.parameters())) {
    const leaf = name.slice(name.lastIndexOf('.') + 1);
    tf.tidy(() =>
      variable.assign(goldenTensor(goldenEntry(golden, stored[leaf]!)).reshape(variable.shape)),
    );
  }
  encoding.useNoise(new ReplayedNoise(golden));
  return encoding;
}

/** `[B, N, H, X]` values as `[B, H, N, X]`. */
function headsFirst(golden: GoldenCase, name: string): tf.Tensor4D {
  return tf.tidy(() =>
    goldenTensor(goldenEntry(golden, name)).transpose([0, 2, 1, 3]),
  ) as tf.Tensor4D;
}

describe('golden spe cases (aliutkus/spe, replayed noise)', async () => {
  const files = goldenCaseFiles('spe');
  const cases = await Promise.all(files.map((f) => readGoldenCase('spe', f)));
  for (const golden of cases) {
    const c = golden.config as unknown as CaseSettings;
    describe(`${golden.file} (${JSON.stringify(c)})`, () => {
      it('q̂ and k̂ through the linearQueryKey hook match within 1e-5', () => {
        const encoding = encodingFor(golden);
        const q = headsFirst(golden, 'q');
        const k = headsFirst(golden, 'k');
        const ctx = attentionContext({
          queries: sequencePositions(1, c.length),
          heads: c.num_heads,
          headDim: c.in_features,
          kind: 'linear',
        });
        const out = encoding.linearQueryKey(q, k, ctx);
        expect(out.q.shape).toEqual([q.shape[0], c.num_heads, c.length, c.num_realizations]);
        for (const [side, tensor] of [
          ['qhat', out.q],
          ['khat', out.k],
        ] as const) {
          const actual = tf.tidy(() => tensor.transpose([0, 2, 1, 3]));
          expectClose(
            actual,
            goldenValues(goldenEntry(golden, `expected_${side}`)),
            TOLERANCE,
            side,
          );
          actual.dispose();
        }
        tf.dispose([q, k, out.q, out.k]);
        disposeAttentionContext(ctx);
        encoding.dispose();
      });

      it('the code q̄, k̄ matches within 1e-5', () => {
        const encoding = encodingFor(golden);
        const params = encoding.parameters();
        const leaf = (suffix: string) =>
          Object.entries(params).find(([n]) => n.endsWith(suffix))![1] as tf.Tensor;
        const noise = new ReplayedNoise(golden);
        const codes = tf.tidy(() => {
          if (c.kind === 'sine') {
            const ids = tf.range(0, c.length, 1, 'float32').reshape([1, c.length]) as tf.Tensor2D;
            const z = noise.sine(c.num_heads, c.in_features, 2 * c.num_sines!, c.num_realizations);
            const p = {
              freqs: leaf('spe_freqs'),
              offsets: leaf('spe_offsets'),
              gains: leaf('spe_gains'),
            };
            return [sineCode(p as never, ids, z, true), sineCode(p as never, ids, z, false)];
          }
          const window = convNoise1d(
            noise,
            c.num_realizations,
            c.num_heads * c.in_features,
            c.kernel_size!,
            0,
            c.length - 1,
          );
          const made = convCodes1d(
            { filterQ: leaf('spe_filter_q'), filterK: leaf('spe_filter_k') },
            window,
            c.num_heads,
            c.in_features,
          );
          return [made.q, made.k];
        });
        expectClose(
          codes[0]!,
          goldenValues(goldenEntry(golden, 'expected_qbar')),
          TOLERANCE,
          'qbar',
        );
        expectClose(
          codes[1]!,
          goldenValues(goldenEntry(golden, 'expected_kbar')),
          TOLERANCE,
          'kbar',
        );
        tf.dispose(codes);
        encoding.dispose();
      });
    });
  }
});
