/**
 * The seeded noise is drawn once per draw index and read again by later forwards: a forward
 * after others with the same draw gives exactly what a fresh encoding gives at that draw, a
 * new draw changes the output, and going back to a draw gives its first output again. The
 * kept draws are freed by the next draw and by dispose.
 */
import { describe, expect, it } from 'vitest';
import { createFromDefinition, sequencePositions, tf } from '@posenc/core';
import {
  attentionContext,
  disposeAttentionContext,
  onCpuWithoutLeaks,
  testBuildSpec,
} from '@posenc/core/testing';
import { speDefinition, type SpeEncoding } from './spe-encoding.js';

onCpuWithoutLeaks();

const [HEADS, DIM, N, LAYERS] = [2, 4, 6, 2];

function encodingOf(): SpeEncoding {
  const e = createFromDefinition(speDefinition, {
    kind: 'sine',
    realizations: 8,
    sines: 3,
    gated: true,
    seed: 7,
  }) as SpeEncoding;
  e.build(testBuildSpec({ heads: HEADS, headDim: DIM, layers: LAYERS, seed: 5 }));
  return e;
}

describe('SPE noise reuse', () => {
  it('a forward with a kept draw equals a fresh encoding at that draw; a new draw does not', () => {
    const q = tf.randomNormal([1, HEADS, N, DIM], 0, 1, 'float32', 1) as tf.Tensor4D;
    const k = tf.randomNormal([1, HEADS, N, DIM], 0, 1, 'float32', 2) as tf.Tensor4D;
    const ctxs = Array.from({ length: LAYERS }, (_, layer) =>
      attentionContext({
        queries: sequencePositions(1, N),
        heads: HEADS,
        headDim: DIM,
        kind: 'linear',
        layer,
      }),
    );
    /** Every layer's q̂ and k̂ of one forward, as numbers. */
    const forward = (e: SpeEncoding) =>
      ctxs.flatMap((ctx) => {
        const out = e.linearQueryKey(q, k, ctx);
        const values = [Array.from(out.q.dataSync()), Array.from(out.k.dataSync())];
        tf.dispose([out.q, out.k]);
        return values;
      });

    const reused = encodingOf();
    const first = forward(reused);
    const again = forward(reused); // the kept draw 0
    reused.setDraw(1);
    const other = forward(reused);
    reused.setDraw(0);
    const back = forward(reused);
    const held = tf.memory().numTensors;
    reused.dispose();
    expect(tf.memory().numTensors).toBeLessThan(held);

    // Built after the first is disposed: the variables' names are global.
    const fresh = encodingOf();
    const reference = forward(fresh);
    fresh.setDraw(1);
    const referenceOther = forward(fresh);
    fresh.dispose();

    expect(first).toEqual(reference);
    expect(again).toEqual(reference);
    expect(back).toEqual(reference);
    expect(other).toEqual(referenceOther);
    expect(other).not.toEqual(reference);
    for (const ctx of ctxs) disposeAttentionContext(ctx);
    tf.dispose([q, k]);
  });
});
