/**
 * core's `PosencRotary` contract on this engine against the contract written out in plain JS:
 * both layouts, a partial slice starting inside the features, axial chunks, tables per batch
 * row, the transposed rotation, `[B,N,D]` inputs. (@posenc/roformer's tests also check this
 * kernel against its composite rotation, forward and gradient, when this engine is installed.)
 */
import { describe, expect, it } from 'vitest';
import { ROTARY_KERNEL, tf, type RotaryAttributes } from '@posenc/core';
import { registerKernelsBackend } from '../backend.js';
import { expectClose, expectNoLeaks, randomValues, sizeOf } from '../testing/compare.js';

interface Case {
  label: string;
  shape: number[];
  tableBatch: number;
  pairs: number;
  attributes: RotaryAttributes;
}

const plain = { startIndex: 0, chunks: 1, transpose: false };
const CASES: Case[] = [
  {
    label: 'interleaved',
    shape: [2, 3, 5, 8],
    tableBatch: 1,
    pairs: 4,
    attributes: { ...plain, layout: 'interleaved' },
  },
  {
    label: 'half, transposed',
    shape: [2, 3, 5, 8],
    tableBatch: 1,
    pairs: 4,
    attributes: { ...plain, layout: 'half', transpose: true },
  },
  {
    label: 'interleaved, partial from feature 1',
    shape: [2, 2, 3, 10],
    tableBatch: 2,
    pairs: 3,
    attributes: { ...plain, layout: 'interleaved', startIndex: 1 },
  },
  {
    label: 'half, axial (2 chunks), tables per row',
    shape: [2, 2, 6, 8],
    tableBatch: 2,
    pairs: 4,
    attributes: { ...plain, layout: 'half', chunks: 2 },
  },
  {
    label: 'interleaved, [B,N,D], rotated prefix',
    shape: [3, 4, 12],
    tableBatch: 1,
    pairs: 4,
    attributes: { ...plain, layout: 'interleaved' },
  },
];

/** The contract's formula, pair by pair. */
function reference(x: Float32Array, c: Case, cos: Float32Array, sin: Float32Array): Float32Array {
  const { shape, tableBatch, pairs, attributes: a } = c;
  const rank = shape.length;
  const [batch, length, dim] = [shape[0]!, shape[rank - 2]!, shape[rank - 1]!];
  const heads = rank === 4 ? shape[1]! : 1;
  const width = (2 * pairs) / a.chunks;
  const out = Float32Array.from(x);
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < heads; h++)
      for (let n = 0; n < length; n++) {
        const row = ((b * heads + h) * length + n) * dim;
        const tableRow = ((tableBatch === 1 ? 0 : b) * length + n) * pairs;
        for (let t = 0; t < pairs; t++) {
          const chunk = Math.floor(t / (pairs / a.chunks));
          const j = t % (pairs / a.chunks);
          const start = row + a.startIndex + chunk * width;
          const [i1, i2] =
            a.layout === 'interleaved'
              ? [start + 2 * j, start + 2 * j + 1]
              : [start + j, start + j + width / 2];
          const co = cos[tableRow + t]!;
          const si = (a.transpose ? -1 : 1) * sin[tableRow + t]!;
          out[i1] = x[i1]! * co - x[i2]! * si;
          out[i2] = x[i2]! * co + x[i1]! * si;
        }
      }
  return out;
}

describe('rotary kernel', () => {
  for (const c of CASES)
    it(`${c.label}: equals the contract's formula, no leaks`, async () => {
      const info = await registerKernelsBackend();
      await tf.setBackend(info.name);
      const length = c.shape[c.shape.length - 2]!;
      const tableShape = [c.tableBatch, length, c.pairs];
      const xValues = randomValues(sizeOf(c.shape), 61, -2, 2);
      const cosValues = randomValues(sizeOf(tableShape), 62);
      const sinValues = randomValues(sizeOf(tableShape), 63);
      const calls = info.replacedCalls.get(ROTARY_KERNEL) ?? 0;
      const y = await expectNoLeaks(info.name, async () =>
        tf.tidy(() =>
          (
            tf.engine().runKernel(
              ROTARY_KERNEL,
              {
                x: tf.tensor(xValues, c.shape),
                cos: tf.tensor(cosValues, tableShape),
                sin: tf.tensor(sinValues, tableShape),
              },
              c.attributes as unknown as tf.NamedAttrMap,
            ) as tf.Tensor
          ).dataSync(),
        ),
      );
      expect((info.replacedCalls.get(ROTARY_KERNEL) ?? 0) - calls).toBe(1);
      expectClose(y as Float32Array, reference(xValues, c, cosValues, sinValues), c.label, {
        atol: 1e-6,
        rtol: 1e-6,
      });
    });
});
