import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@posenc/core';
import { streamBatch, streamLayout } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('contiguous streams', () => {
  const corpus = Int32Array.from({ length: 103 }, (_, i) => i);

  it('cuts the corpus into B parts, each row reading on where it stopped', () => {
    const layout = streamLayout(corpus.length, 3, 4);
    expect(layout).toEqual({ rows: 3, length: 4, partLength: 34, stepsPerEpoch: 8 });
    let previous: number[][] | undefined;
    for (let index = 0; index < layout.stepsPerEpoch; index++) {
      const batch = streamBatch(corpus, layout, index);
      const inputs = batch.inputs.arraySync();
      const targets = batch.targets.arraySync();
      expect(batch.tokens).toBe(12);
      expect(batch.epoch).toBe(0);
      expect(batch.epochStart).toBe(index === 0);
      inputs.forEach((row, b) => {
        // Each row stays inside its own part, targets are the next tokens, and a row
        // continues exactly where its previous subsequence ended.
        expect(row[0]).toBe(b * 34 + index * 4);
        row.forEach((v, i) => expect(targets[b]![i]).toBe(v + 1));
        expect(Math.max(...targets[b]!)).toBeLessThan((b + 1) * 34);
        if (previous) expect(row[0]).toBe(previous[b]![3]! + 1);
      });
      previous = inputs;
      tf.dispose([batch.inputs, batch.targets]);
    }
    // The next index starts epoch 1 from the beginning of every part, unshuffled.
    const again = streamBatch(corpus, layout, layout.stepsPerEpoch + 2);
    expect(again.epoch).toBe(1);
    expect(again.epochStart).toBe(false);
    expect(again.inputs.arraySync().map((r) => r[0])).toEqual([8, 42, 76]);
    tf.dispose([again.inputs, again.targets]);
  });

  it('rejects layouts without a full subsequence per row, naming the numbers', () => {
    expect(() => streamLayout(20, 4, 5)).toThrow(
      /20 tokens cut into 4 rows give 5 tokens per row, fewer than length \+ 1 = 6/,
    );
    expect(() => streamLayout(20, 0, 5)).toThrow(/rows = 0 .*integer ≥ 1/);
    expect(() => streamBatch(corpus, streamLayout(103, 2, 4), -1)).toThrow(/index = -1/);
  });
});
