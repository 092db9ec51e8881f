/**
 * core's fused RoPE attention (`PosencRotaryAttention`, `PosencRotaryAttentionGrad`) on this
 * engine against what the same call does on cpu, which has no such kernels: core's
 * `attendSoftmax` runs the encoding's `queryKey` hook there (a rotation written with TF.js ops,
 * pair by pair as core's `PosencRotary` contract states it) and differentiates the composite
 * attention. Both layouts, a partial slice, axial chunks, tables per batch row, scaled tables, a
 * cache of earlier keys with their own tables, key padding: outputs and the gradients of q, k and
 * v within 1e-5, one kernel call each way, nothing leaked.
 */
import { describe, expect, it } from 'vitest';
import {
  attendSoftmax,
  createEncoding,
  disposePositions,
  fusedRotationFor,
  ROTARY_ATTENTION_GRAD_KERNEL,
  ROTARY_ATTENTION_KERNEL,
  sequencePositions,
  tf,
  type AttentionContext,
  type FusedRotation,
  type PositionEncoding,
  type QKV,
  type RotaryLayout,
} from '@posenc/core';
import { testBuildSpec } from '@posenc/core/testing';
import { registerKernelsBackend } from '../backend.js';
import { expectKernelsSameAsCpu, randomValues, sizeOf } from '../testing/compare.js';

interface Case {
  label: string;
  layout: RotaryLayout;
  headDim: number;
  startIndex: number;
  pairs: number;
  chunks: number;
  /** 1: tables shared by the batch; B: a table per batch row. */
  tableBatch: number;
  causal: boolean;
  /** Keys before the queries (a cache), with tables of their own. */
  cached?: number;
  padding?: boolean;
  /** Tables with |cos|, |sin| other than a unit rotation (attention factors, xPos). */
  scaled?: boolean;
}

const CASES: Case[] = [
  {
    label: 'interleaved, causal',
    layout: 'interleaved',
    headDim: 8,
    startIndex: 0,
    pairs: 4,
    chunks: 1,
    tableBatch: 1,
    causal: true,
  },
  {
    label: 'half, partial from feature 2, padding',
    layout: 'half',
    headDim: 8,
    startIndex: 2,
    pairs: 2,
    chunks: 1,
    tableBatch: 1,
    causal: false,
    padding: true,
  },
  {
    label: 'half, axial (2 chunks), tables per row, causal',
    layout: 'half',
    headDim: 8,
    startIndex: 0,
    pairs: 4,
    chunks: 2,
    tableBatch: 2,
    causal: true,
  },
  {
    label: 'interleaved, scaled tables, causal with a cache, padding',
    layout: 'interleaved',
    headDim: 6,
    startIndex: 0,
    pairs: 3,
    chunks: 1,
    tableBatch: 2,
    causal: true,
    cached: 3,
    padding: true,
    scaled: true,
  },
];

const [B, H, NQ] = [2, 3, 5];

/**
 * The rotation as TF.js ops: y = x·C + x[partner]·S, with C and S spread from the tables onto
 * the features (C = 1, S = 0 outside the rotated slice). Differentiable in x.
 */
function compositeRotate(x: tf.Tensor4D, cos: Float32Array, sin: Float32Array, c: Case) {
  const [, , n, dim] = x.shape;
  const c4 = new Float32Array(c.tableBatch * n * dim).fill(1);
  const s4 = new Float32Array(c4.length);
  const partner = Array.from({ length: dim }, (_, i) => i);
  const width = (2 * c.pairs) / c.chunks;
  const chunkPairs = c.pairs / c.chunks;
  for (let t = 0; t < c.pairs; t++) {
    const start = c.startIndex + Math.floor(t / chunkPairs) * width;
    const j = t % chunkPairs;
    const [i1, i2] =
      c.layout === 'interleaved'
        ? [start + 2 * j, start + 2 * j + 1]
        : [start + j, start + j + width / 2];
    partner[i1] = i2;
    partner[i2] = i1;
    for (let r = 0; r < c.tableBatch * n; r++) {
      const co = cos[r * c.pairs + t]!;
      const si = sin[r * c.pairs + t]!;
      c4[r * dim + i1] = co;
      c4[r * dim + i2] = co;
      s4[r * dim + i1] = -si;
      s4[r * dim + i2] = si;
    }
  }
  const spread = (values: Float32Array) => tf.tensor4d(values, [c.tableBatch, 1, n, dim]);
  const swapped = tf.gather(x, tf.tensor1d(partner, 'int32'), 3);
  return tf.add(tf.mul(x, spread(c4)), tf.mul(swapped, spread(s4))) as tf.Tensor4D;
}

/** Tables of `rows × n × pairs`: unit rotations by random angles, or scaled ones. */
function tables(c: Case, n: number, seed: number) {
  const size = c.tableBatch * n * c.pairs;
  const angles = randomValues(size, seed, -3, 3);
  const scales = c.scaled ? randomValues(size, seed + 1, 0.5, 1.5) : new Float32Array(size).fill(1);
  const cos = angles.map((a, i) => Math.cos(a) * scales[i]!);
  const sin = angles.map((a, i) => Math.sin(a) * scales[i]!);
  return { cos, sin };
}

/** A test encoding whose `queryKey` rotates q and k by fixed tables, and offers them for fusion. */
function rotatingEncoding(c: Case, nk: number): PositionEncoding {
  const q = tables(c, NQ, 71);
  const k = tables(c, nk, 73);
  const asTensor = (t: { cos: Float32Array; sin: Float32Array }, n: number) => ({
    cos: tf.tensor3d(t.cos, [c.tableBatch, n, c.pairs]),
    sin: tf.tensor3d(t.sin, [c.tableBatch, n, c.pairs]),
  });
  return {
    name: 'test-rotation',
    config: {},
    supports: ['softmax'],
    queryKey: (qkv: QKV) => ({
      q: compositeRotate(qkv.q, q.cos, q.sin, c),
      k: compositeRotate(qkv.k, k.cos, k.sin, c),
      v: qkv.v,
    }),
    fusedRotation: (): FusedRotation => ({
      query: asTensor(q, NQ),
      key: asTensor(k, nk),
      attributes: { layout: c.layout, startIndex: c.startIndex, chunks: c.chunks },
    }),
  };
}

function context(c: Case, nk: number) {
  const keyPositions = sequencePositions(B, nk);
  const queryPositions = sequencePositions(B, NQ, nk - NQ);
  const ctx: AttentionContext = {
    queryPositions,
    keyPositions,
    heads: H,
    headDim: c.headDim,
    causal: c.causal,
    layer: 0,
    kind: 'softmax',
    training: true,
  };
  return {
    ctx,
    dispose: () => [keyPositions, queryPositions].forEach(disposePositions),
  };
}

/** The output and the gradients of q, k, v of a weighted sum of it. */
function attentionWithGradients(c: Case): tf.Tensor[] {
  const nk = NQ + (c.cached ?? 0);
  const { ctx, dispose } = context(c, nk);
  const encoding = rotatingEncoding(c, nk);
  const values = (shape: number[], seed: number) =>
    tf.variable(tf.tensor(randomValues(sizeOf(shape), seed, -2, 2), shape));
  const q = values([B, H, NQ, c.headDim], 41);
  const k = values([B, H, nk, c.headDim], 42);
  const v = values([B, H, nk, c.headDim], 43);
  const keyValid = c.padding
    ? tf.tensor2d([Array(nk).fill(1), [...Array(nk - 2).fill(1), 0, 0]], [B, nk], 'int32')
    : undefined;
  const w = tf.tensor(randomValues(B * H * NQ * c.headDim, 44), [B, H, NQ, c.headDim]);
  const attend = () =>
    attendSoftmax(
      { q: q as tf.Tensor4D, k: k as tf.Tensor4D, v: v as tf.Tensor4D },
      { encodings: [encoding], ctx, keyValid: keyValid as tf.Tensor2D | undefined },
    ).output;
  const variables = [q, k, v];
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(attend(), w)) as tf.Scalar, variables);
  const out = [attend(), ...variables.map((x) => grads[x.name]!)];
  tf.dispose(variables);
  dispose();
  return out;
}

describe('fused RoPE attention kernels', () => {
  for (const c of CASES)
    it(`${c.label}: output and gradients equal queryKey + composite attention on cpu, no leaks`, async () => {
      const info = await registerKernelsBackend();
      const calls = await expectKernelsSameAsCpu(
        info,
        { forward: ROTARY_ATTENTION_KERNEL, gradient: ROTARY_ATTENTION_GRAD_KERNEL },
        () => attentionWithGradients(c),
        c.label,
      );
      expect(calls).toEqual({ forward: 2, gradient: 1 });
    });

  it('is not used where another hook reads q and k, probabilities are asked for, or attention is linear', async () => {
    const info = await registerKernelsBackend();
    await tf.setBackend(info.name);
    const c = CASES[0]!;
    const { ctx, dispose } = context(c, NQ);
    const rotation = rotatingEncoding(c, NQ);
    const alibi = createEncoding({ name: 'alibi' });
    alibi.build?.(
      testBuildSpec({ layers: 1, heads: H, headDim: c.headDim, maxPositions: 16, seed: 1 }),
    );
    tf.tidy(() => {
      const x = tf.zeros([B, H, NQ, c.headDim]) as tf.Tensor4D;
      const qkv = { q: x, k: x, v: x };
      const fused = (
        encodings: PositionEncoding[],
        extra: Partial<AttentionContext> = {},
        returnProbs = false,
      ) =>
        fusedRotationFor(qkv, { encodings, ctx: { ...ctx, ...extra }, returnProbs }) !== undefined;
      expect(fused([rotation])).toBe(true);
      expect(fused([rotation, alibi])).toBe(false);
      expect(fused([rotation], {}, true)).toBe(false);
      expect(fused([rotation], { kind: 'linear' })).toBe(false);
      expect(fused([rotation, rotation])).toBe(false);
    });
    alibi.dispose?.();
    dispose();
  });
});
