import { describe, expect, it, vi } from 'vitest';
import {
  sequencePositions,
  tf,
  TransformerBody,
  TransformerLayer,
  type TensorEntry,
} from '@posenc/core';
import '../index.js';
import { maxAbsDiff, onCpuWithoutLeaks } from '@posenc/core/testing';
import { hfRoFormerReference } from '../testing/hf-roformer-reference.js';
import { randomizeParameters } from '../testing/randomize.js';
import { hfRoFormerEntries } from './hf-weights.js';
import { IGNORE_INDEX, RoFormer, type RoFormerOptions } from './model.js';

onCpuWithoutLeaks();

const TINY: RoFormerOptions = {
  vocabSize: 11,
  hiddenSize: 8,
  layers: 2,
  heads: 2,
  intermediateSize: 12,
  maxPositionEmbeddings: 16,
  hiddenDropout: 0,
};

describe('RoFormer', () => {
  it.each([
    [
      'erf GELU, embedding projection, padding and token types',
      { embeddingSize: 6, hiddenAct: 'gelu' },
    ],
    [
      'rotary values, causal, tanh GELU',
      { rotaryValue: true, causal: true, hiddenAct: 'gelu_new' },
    ],
  ] as const)('computes what HF RoFormerForMaskedLM computes (%s)', (_name, extra) => {
    const model = new RoFormer({ ...TINY, ...extra });
    randomizeParameters(model.parameters(), 10);
    const tokens = [
      [3, 7, 1, 9, 4, 10],
      [2, 2, 5, 0, 8, 6],
    ];
    const types = [
      [0, 0, 0, 1, 1, 1],
      [0, 1, 0, 1, 0, 1],
    ];
    const mask = [
      [1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 0, 0],
    ];
    const input = tf.tensor2d(tokens, [2, 6], 'int32');
    const tokenTypes = tf.tensor2d(types, [2, 6], 'int32');
    const attentionMask = tf.tensor2d(mask, [2, 6], 'float32');
    const { hidden } = model.forward(input, { tokenTypes, attentionMask });
    const logits = model.mlmLogits(hidden);
    const weights = new Map(Object.entries(hfRoFormerEntries(model)));
    const config = { ...model.config, mlmHead: true };
    const got = { hidden: hidden.arraySync(), logits: logits.arraySync() };
    for (let b = 0; b < 2; b++) {
      const want = hfRoFormerReference(weights, config, tokens[b]!, types[b]!, mask[b]!);
      // Padding positions of the second row are outputs too (they attend to real tokens).
      expect(maxAbsDiff(got.hidden[b]!.flat(), want.hidden.flat())).toBeLessThan(2e-4);
      expect(maxAbsDiff(got.logits[b]!.flat(), want.logits!.flat())).toBeLessThan(5e-4);
    }
    // Rotating matters here: the same weights without RoPE give other outputs.
    const noRope = hfRoFormerReference(
      new Map(
        [...weights].map(([k, e]) => [k, k.endsWith('embed_positions.weight') ? zeroAngles(e) : e]),
      ),
      config,
      tokens[0]!,
      types[0]!,
      mask[0]!,
    );
    expect(maxAbsDiff(got.hidden[0]!.flat(), noRope.hidden.flat())).toBeGreaterThan(1e-2);
    tf.dispose([input, tokenTypes, attentionMask, hidden, logits]);
    model.dispose();
  });

  it("runs core's TransformerLayers through core's TransformerBody, with its rope encoding", () => {
    const model = new RoFormer(TINY);
    expect(model.layers).toHaveLength(TINY.layers);
    for (const layer of model.layers) expect(layer).toBeInstanceOf(TransformerLayer);
    const run = vi.spyOn(TransformerBody.prototype, 'run');
    const tokens = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
    tf.tidy(() => {
      model.forward(tokens);
    });
    expect(run).toHaveBeenCalledTimes(1);
    const body = run.mock.contexts[0] as TransformerBody;
    expect(body.layers).toBe(model.layers);
    expect(body.encodings).toEqual([model.rope]);
    run.mockRestore();
    tokens.dispose();
    model.dispose();
  });

  it('rotates in every layer, and its outputs depend only on relative positions', () => {
    const model = new RoFormer(TINY);
    randomizeParameters(model.parameters(), 20);
    const spy = vi.spyOn(model.rope, 'queryKey');
    const tokens = tf.tensor2d([[1, 2, 3, 4, 5]], [1, 5], 'int32');
    const at = (offset: number) => {
      const positions = sequencePositions(1, 5, offset);
      const { hidden } = model.forward(tokens, { positions });
      const values = hidden.dataSync();
      tf.dispose([hidden, positions.ids]);
      return values;
    };
    const a = at(0);
    expect(spy).toHaveBeenCalledTimes(TINY.layers);
    expect(maxAbsDiff(a, at(731))).toBeLessThan(1e-4);
    tf.dispose(tokens);
    model.dispose();
  });

  it('trains: the masked-LM loss ignores −100 labels and falls over a few SGD steps', () => {
    const model = new RoFormer({ ...TINY, layers: 1 });
    const tokens = tf.tensor2d(
      [
        [1, 2, 3, 4, 5, 6],
        [6, 5, 4, 3, 2, 1],
      ],
      [2, 6],
      'int32',
    );
    const labels = tf.tensor2d(
      [
        [IGNORE_INDEX, 2, IGNORE_INDEX, 4, IGNORE_INDEX, 6],
        [6, IGNORE_INDEX, 4, IGNORE_INDEX, 2, IGNORE_INDEX],
      ],
      [2, 6],
      'int32',
    );
    const optimizer = tf.train.sgd(0.5);
    const losses: number[] = [];
    for (let step = 0; step < 15; step++) {
      const loss = optimizer.minimize(() => model.mlmLoss(tokens, labels), true)!;
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
    }
    expect(losses[0]).toBeCloseTo(Math.log(11), 1); // uniform over 11 tokens at init
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.7);
    tf.dispose([tokens, labels]);
    optimizer.dispose();
    model.dispose();
  });

  it('runs with linear attention (RoPE on the numerator features)', () => {
    const model = new RoFormer({ ...TINY, attention: 'linear' });
    const tokens = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
    const { value, grads } = tf.variableGrads(() => model.mlmLoss(tokens, tokens));
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    expect(Object.keys(grads).length).toBe(Object.keys(model.parameters()).length);
    tf.dispose([tokens, value, ...Object.values(grads)]);
    model.dispose();
  });

  it('rejects bad configs and inputs clearly', () => {
    expect(() => new RoFormer({ ...TINY, heads: 3 })).toThrow(
      /field 'heads' = 3 is not allowed; must divide hiddenSize = 8/,
    );
    expect(() => new RoFormer({ ...TINY, hiddenAct: 'swish' as 'gelu' })).toThrow(
      /field 'hiddenAct' = "swish"/,
    );
    expect(() => new RoFormer({ ...TINY, rope: { xpos: true } })).toThrow(
      /field 'rope.xpos' = true is not allowed; xPos needs causal: true/,
    );
    expect(() => new RoFormer({ ...TINY, rope: { rotaryDim: 6 } })).toThrow(
      /rotaryDim = 6 from startIndex = 0 does not fit in the 4 features/,
    );
    const model = new RoFormer({ ...TINY, mlmHead: false });
    const tokens = tf.tensor2d([[1, 2]], [1, 2], 'int32');
    const mask = tf.ones([1, 3]) as tf.Tensor2D;
    expect(() => model.forward(tokens, { attentionMask: mask })).toThrow(
      /attentionMask has shape \[1,3\], expected \[1, 2\]/,
    );
    const { hidden } = model.forward(tokens);
    expect(() => model.mlmLogits(hidden)).toThrow(/mlmHead: false/);
    tf.dispose([tokens, mask, hidden]);
    model.dispose();
  });
});

/** A table whose rows all hold angle 0 (sin 0, cos 1): the reference without rotation. */
function zeroAngles(entry: TensorEntry): TensorEntry {
  const [rows, dim] = entry.shape as [number, number];
  const values = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) for (let j = dim / 2; j < dim; j++) values[r * dim + j] = 1;
  return { dtype: 'F32', shape: [rows, dim], data: new Uint8Array(values.buffer) };
}
