import { describe, expect, it } from 'vitest';
import { tf } from '@posenc/core';
import '../index.js';
import { maxAbsDiff, onCpuWithoutLeaks } from '@posenc/core/testing';
import { randomizeParameters } from '../testing/randomize.js';
import { RoFormer, type RoFormerOptions } from './model.js';
import { convertProjectionLayout, convertRoFormerLayout } from './qk-layout.js';

onCpuWithoutLeaks();

const TINY: RoFormerOptions = {
  vocabSize: 13,
  hiddenSize: 16,
  layers: 2,
  heads: 2,
  intermediateSize: 20,
  maxPositionEmbeddings: 32,
  hiddenDropout: 0,
};

function logits(model: RoFormer): Float32Array {
  return tf.tidy(() => {
    const tokens = tf.tensor2d(
      [
        [3, 1, 4, 1, 5, 9, 2, 6],
        [2, 7, 1, 8, 2, 8, 1, 8],
      ],
      [2, 8],
      'int32',
    );
    return model.mlmLogits(model.forward(tokens).hidden).dataSync() as Float32Array;
  });
}

describe('q/k weight layout conversion', () => {
  it.each([
    ['interleaved → half', {}],
    ['with rotary values (v and the output projection move too)', { rotaryValue: true }],
    ['partial rotation from feature 2', { rope: { rotaryDim: 4, rotaryStart: 2 } }],
  ] as [string, Partial<RoFormerOptions>][])('gives the same logits: %s', (_name, extra) => {
    const model = new RoFormer({ ...TINY, ...extra });
    randomizeParameters(model.parameters(), 4);
    const half = convertRoFormerLayout(model, 'half');
    expect(half.rope.config.layout).toBe('half');
    const want = logits(model);
    // Identical (on the cpu backend): every score sums the same products, in another order.
    expect(maxAbsDiff(logits(half), want)).toBe(0);
    // Converting back restores the original weights exactly (a permutation and its inverse).
    const back = convertRoFormerLayout(half, 'interleaved');
    for (const [name, p] of Object.entries(model.parameters()))
      expect(maxAbsDiff(back.parameters()[name]!.dataSync(), p.dataSync())).toBe(0);
    // Without converting the weights, the other layout computes something else.
    const unconverted = new RoFormer({
      ...TINY,
      ...extra,
      rope: { ...extra.rope, layout: 'half' },
    });
    for (const [name, p] of Object.entries(unconverted.parameters()))
      p.assign(model.parameters()[name]!);
    expect(maxAbsDiff(logits(unconverted), want)).toBeGreaterThan(1e-2);
    [model, half, back, unconverted].forEach((m) => m.dispose());
  });

  it('permutes output features per head in our [in,out] and HF’s [out,in] layouts alike', () => {
    // One head of 4 features: interleaved pairs (0,1),(2,3) become half pairs (0,2),(1,3).
    const ours = tf.tensor2d([[0, 1, 2, 3, 10, 11, 12, 13]], [1, 8]);
    const converted = convertProjectionLayout(ours, { heads: 2, from: 'interleaved', to: 'half' });
    expect(Array.from(converted.dataSync())).toEqual([0, 2, 1, 3, 10, 12, 11, 13]);
    const hf = ours.transpose();
    const convertedHF = convertProjectionLayout(hf, {
      heads: 2,
      from: 'interleaved',
      to: 'half',
      axis: 'first',
    });
    expect(
      maxAbsDiff(
        tf.tidy(() => convertedHF.transpose().dataSync()),
        converted.dataSync(),
      ),
    ).toBe(0);
    const bias = tf.tensor1d([0, 1, 2, 3, 10, 11, 12, 13]);
    const convertedBias = convertProjectionLayout(bias, {
      heads: 2,
      from: 'interleaved',
      to: 'half',
    });
    expect(Array.from(convertedBias.dataSync())).toEqual([0, 2, 1, 3, 10, 12, 11, 13]);
    expect(() =>
      convertProjectionLayout(bias, { heads: 3, from: 'interleaved', to: 'half' }),
    ).toThrow(/8 output features do not split into heads = 3/);
    tf.dispose([ours, converted, hf, convertedHF, bias, convertedBias]);
  });
});
