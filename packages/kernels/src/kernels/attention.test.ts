/**
 * core's softmax attention on this engine runs the `PosencAttention` and `PosencAttentionGrad`
 * kernels; on cpu it composes TF.js ops and differentiates them. For every core encoding that
 * adds a score bias (and none), causal and not, with key padding and with a cache of earlier
 * keys, the output, the probabilities and the gradients of q, k, v and the encoding's own
 * parameters must agree, and nothing may leak.
 */
import { describe, expect, it } from 'vitest';
import {
  ATTENTION_GRAD_KERNEL,
  ATTENTION_KERNEL,
  createEncoding,
  disposePositions,
  sequencePositions,
  softmaxAttention,
  tf,
  type AttentionContext,
  type EncodingConfig,
} from '@posenc/core';
import { testBuildSpec } from '@posenc/core/testing';
import { registerKernelsBackend } from '../backend.js';
import {
  expectKernelsSameAsCpu,
  randomValues,
  sizeOf,
  expectSameAsCpuWithoutGradientKernel,
} from '../testing/compare.js';

interface Case {
  label: string;
  encoding: EncodingConfig;
  causal: boolean;
  /** Keys before the queries (a cache); their positions lead the queries'. */
  cached?: number;
  padding?: boolean;
  returnProbs?: boolean;
}

const CASES: Case[] = [
  { label: 'no bias, causal', encoding: { name: 'none' }, causal: true },
  {
    label: 'no bias, padding, probabilities',
    encoding: { name: 'none' },
    causal: false,
    padding: true,
    returnProbs: true,
  },
  { label: 'alibi, causal, cache', encoding: { name: 'alibi' }, causal: true, cached: 3 },
  {
    label: 'alibi symmetric, padding',
    encoding: { name: 'alibi', variant: 'symmetric' },
    causal: false,
    padding: true,
  },
  {
    label: 't5, causal, cache, padding',
    encoding: { name: 't5' },
    causal: true,
    cached: 2,
    padding: true,
  },
  { label: 't5 bidirectional', encoding: { name: 't5' }, causal: false },
  { label: 'shaw keys, causal', encoding: { name: 'shaw' }, causal: true },
  {
    label: 'shaw keys and values (a value bias), causal, cache',
    encoding: { name: 'shaw', values: true },
    causal: true,
    cached: 2,
  },
  {
    label: 'relative_key_query, padding',
    encoding: { name: 'relative_key_query' },
    causal: false,
    padding: true,
  },
  {
    label: 'relative_key_query, causal, probabilities',
    encoding: { name: 'relative_key_query' },
    causal: true,
    returnProbs: true,
  },
];

const [B, H, NQ, D] = [2, 3, 5, 8];

/** Output, probabilities (on request) and the gradients of a weighted sum of them. */
function attentionWithGradients(c: Case): tf.Tensor[] {
  const nk = NQ + (c.cached ?? 0);
  const encoding = createEncoding(c.encoding);
  encoding.build?.(testBuildSpec({ layers: 1, heads: H, headDim: D, maxPositions: 16, seed: 5 }));
  const keyPositions = sequencePositions(B, nk);
  const queryPositions = sequencePositions(B, NQ, nk - NQ);
  const ctx: AttentionContext = {
    queryPositions,
    keyPositions,
    heads: H,
    headDim: D,
    causal: c.causal,
    layer: 0,
    kind: 'softmax',
    training: true,
  };
  const values = (shape: number[], seed: number) =>
    tf.variable(tf.tensor(randomValues(sizeOf(shape), seed, -2, 2), shape));
  const q = values([B, H, NQ, D], 41);
  const k = values([B, H, nk, D], 42);
  const v = values([B, H, nk, D], 43);
  // The second row's last two keys are padding.
  const keyValid = c.padding
    ? tf.tensor2d([Array(nk).fill(1), [...Array(nk - 2).fill(1), 0, 0]], [B, nk], 'int32')
    : undefined;
  const wOut = tf.tensor(randomValues(B * H * NQ * D, 44), [B, H, NQ, D]);
  const wProbs = tf.tensor(randomValues(B * H * NQ * nk, 45), [B, H, NQ, nk]);
  const attend = () =>
    softmaxAttention(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, {
      encodings: [encoding],
      ctx,
      keyValid: keyValid as tf.Tensor2D | undefined,
      returnProbs: c.returnProbs,
    });
  const variables = [q, k, v, ...Object.values(encoding.parameters?.() ?? {})];
  const { grads } = tf.variableGrads(() => {
    const r = attend();
    const loss = tf.sum(tf.mul(r.output, wOut));
    return (r.probs ? tf.add(loss, tf.sum(tf.mul(r.probs, wProbs))) : loss) as tf.Scalar;
  }, variables);
  const r = attend();
  const out = [r.output, ...(r.probs ? [r.probs] : []), ...variables.map((x) => grads[x.name]!)];
  tf.dispose(variables);
  encoding.dispose?.();
  disposePositions(keyPositions);
  disposePositions(queryPositions);
  return out;
}

describe('attention kernels', () => {
  for (const c of CASES)
    it(`${c.label}: output${c.returnProbs ? ', probabilities' : ''} and gradients equal the composite ops on cpu, no leaks`, async () => {
      const info = await registerKernelsBackend();
      const calls = await expectKernelsSameAsCpu(
        info,
        { forward: ATTENTION_KERNEL, gradient: ATTENTION_GRAD_KERNEL },
        () => attentionWithGradients(c),
        c.label,
      );
      expect(calls).toEqual({ forward: 2, gradient: 1 });
    });

  it("without the gradient kernel, the forward kernel differentiates through core's composite gradient", async () => {
    const kernels = { forward: ATTENTION_KERNEL, gradient: ATTENTION_GRAD_KERNEL };
    for (const c of [CASES[4]!, CASES[7]!])
      expect(
        await expectSameAsCpuWithoutGradientKernel(
          kernels,
          () => attentionWithGradients(c),
          c.label,
        ),
      ).toBe(2);
  });

  it('causal attention with fewer keys than queries fails as on the composite path', async () => {
    await tf.setBackend((await registerKernelsBackend()).name);
    const message = /at least as many keys as queries/;
    tf.tidy(() => {
      const q = tf.zeros([1, 1, 4, 2]) as tf.Tensor4D;
      const k = tf.zeros([1, 1, 3, 2]) as tf.Tensor4D;
      const positions = sequencePositions(1, 4);
      const ctx: AttentionContext = {
        queryPositions: positions,
        keyPositions: positions,
        heads: 1,
        headDim: 2,
        causal: true,
        layer: 0,
        kind: 'softmax',
        training: false,
      };
      expect(() => softmaxAttention(q, k, k, { encodings: [], ctx })).toThrow(message);
    });
  });
});
