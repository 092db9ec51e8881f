/**
 * The depthwise convolution's gradients, which tfjs-backend-wasm lacks, on ONNX Runtime: the
 * gradients of x and of the filter equal cpu's for 'valid', 'same' and explicit padding, one and
 * two filters per channel, 1D-like (height 1, as convSPE runs it) and 2D; other strides stay on
 * the host.
 */
import { describe, expect, it } from 'vitest';
import { tf } from '@posenc/core';
import { registerKernelsBackend } from '../backend.js';
import { expectSameAsCpu, randomValues, sizeOf } from '../testing/compare.js';

interface Case {
  label: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  pad: 'valid' | 'same' | number;
}

const CASES: Case[] = [
  { label: "convSPE's 1D valid filter", x: [3, 1, 20, 6], filter: [1, 5, 6, 1], pad: 'valid' },
  {
    label: '2D valid, two filters per channel',
    x: [2, 7, 6, 3],
    filter: [3, 2, 3, 2],
    pad: 'valid',
  },
  { label: '2D same, even filter', x: [2, 6, 5, 4], filter: [2, 4, 4, 1], pad: 'same' },
  { label: '2D explicit padding 1', x: [1, 5, 5, 2], filter: [3, 3, 2, 2], pad: 1 },
];

const t = (shape: number[], seed: number) =>
  tf.tensor(randomValues(sizeOf(shape), seed, -1, 1), shape);

describe('depthwise convolution gradients on ONNX Runtime', () => {
  for (const c of CASES)
    it(`${c.label}: dx and dfilter equal cpu`, async () => {
      const info = await registerKernelsBackend();
      let filterCalls = 0;
      const before = info.replacedCalls.get('DepthwiseConv2dNativeBackpropInput') ?? 0;
      filterCalls = await expectSameAsCpu(
        info,
        'DepthwiseConv2dNativeBackpropFilter',
        () => {
          const x = t(c.x, 91) as tf.Tensor4D;
          const filter = t(c.filter, 92) as tf.Tensor4D;
          const y = tf.depthwiseConv2d(x, filter, 1, c.pad);
          const w = t(y.shape, 93);
          const [dx, dFilter] = tf.grads((a, f) =>
            tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, f as tf.Tensor4D, 1, c.pad), w)),
          )([x, filter]);
          return [y, dx!, dFilter!];
        },
        c.label,
      );
      expect(filterCalls).toBe(1);
      expect((info.replacedCalls.get('DepthwiseConv2dNativeBackpropInput') ?? 0) - before).toBe(1);
    });

  it("strides other than 1 are left to the host's kernel (core's JS loops on wasm) and equal cpu", async () => {
    const info = await registerKernelsBackend();
    const handled = await expectSameAsCpu(
      info,
      'DepthwiseConv2dNativeBackpropFilter',
      () => {
        const x = t([1, 7, 6, 2], 94) as tf.Tensor4D;
        const filter = t([3, 3, 2, 1], 95) as tf.Tensor4D;
        const [dx, dFilter] = tf.grads((a, f) =>
          tf.sum(tf.depthwiseConv2d(a as tf.Tensor4D, f as tf.Tensor4D, 2, 'valid')),
        )([x, filter]);
        return [dx!, dFilter!];
      },
      'stride 2',
    );
    expect(handled).toBe(0);
  });
});
