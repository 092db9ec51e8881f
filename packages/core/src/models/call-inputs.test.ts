import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { gridPositions, sequencePositions, type Positions } from '../positions/positions.js';
import { assertLikeTokens, withPositions } from './call-inputs.js';

const input = { owner: 'Model', batch: 2, length: 3 };

describe('withPositions', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('defaults to 0…N−1 for every batch row, one shared row with sharedRow, and frees them after', () => {
    const before = tf.memory().numTensors;
    const ids = (p: Positions) => (p.kind === '1d' ? p.ids.arraySync() : []);
    expect(withPositions(undefined, input, ids)).toEqual([
      [0, 1, 2],
      [0, 1, 2],
    ]);
    expect(withPositions(undefined, { ...input, sharedRow: true }, ids)).toEqual([[0, 1, 2]]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('frees the positions it made when the call throws too', () => {
    const before = tf.memory().numTensors;
    expect(() =>
      withPositions(undefined, input, () => {
        throw new Error('inside');
      }),
    ).toThrow('inside');
    expect(tf.memory().numTensors).toBe(before);
  });

  it("hands over the caller's positions and leaves them alive", () => {
    const given = sequencePositions(2, 3, 10);
    const seen = withPositions(given, input, (p) => p);
    expect(seen).toBe(given);
    expect(given.ids.isDisposed).toBe(false);
    given.ids.dispose();
  });

  it('uses the positions `make` builds instead of 0…N−1 (a grid after a class token)', () => {
    const before = tf.memory().numTensors;
    const kind = withPositions(
      undefined,
      { owner: 'ViT', batch: 1, length: 5 },
      (p) => p.kind,
      () => gridPositions(1, 2, 2, 1),
    );
    expect(kind).toBe('2d');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects positions of another batch or length, naming the model and both shapes', () => {
    const wrongLength = sequencePositions(2, 4);
    const oneRow = sequencePositions(1, 3);
    const run = () => 'ran';
    expect(() => withPositions(wrongLength, input, run)).toThrow(
      'Model: positions describe [2, 4] tokens, input is [2, 3]',
    );
    expect(() => withPositions(oneRow, input, run)).toThrow(
      'Model: positions describe [1, 3] tokens, input is [2, 3]',
    );
    expect(withPositions(oneRow, { ...input, sharedRow: true }, run)).toBe('ran');
    expect(() => withPositions(wrongLength, { ...input, sharedRow: true }, run)).toThrow(
      /positions describe \[2, 4\] tokens, input is \[2, 3\] \(one shared row is allowed\)/,
    );
    tf.dispose([wrongLength.ids, oneRow.ids]);
  });
});

describe('assertLikeTokens', () => {
  it('accepts a [B,N] tensor or none, and names the field and both shapes otherwise', () => {
    const mask = tf.ones([2, 3]);
    const wrong = tf.ones([2, 4]);
    const flat = tf.ones([6]);
    expect(() => assertLikeTokens(input, 'attentionMask', mask)).not.toThrow();
    expect(() => assertLikeTokens(input, 'attentionMask', undefined)).not.toThrow();
    expect(() => assertLikeTokens(input, 'attentionMask', wrong)).toThrow(
      'Model: attentionMask has shape [2,4], expected [2, 3] like the tokens',
    );
    expect(() => assertLikeTokens(input, 'tokenTypes', flat)).toThrow(
      'Model: tokenTypes has shape [6], expected [2, 3] like the tokens',
    );
    tf.dispose([mask, wrong, flat]);
  });
});
