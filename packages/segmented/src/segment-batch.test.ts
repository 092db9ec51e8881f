import { beforeAll, describe, expect, it } from 'vitest';
import {
  createEncoding,
  DecoderLM,
  mulberry32,
  sequencePositions,
  tf,
  type AttentionContext,
  type PositionEncoding,
  type Positions,
} from '@posenc/core';
import { segmentBatch, segmentLoss, segmentRows, type SegmentBatchOptions } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const VOCAB = 40;

function documents(seed: number): Int32Array[] {
  const next = mulberry32(seed);
  return [300, 5, 120, 64, 17].map((n) =>
    Int32Array.from({ length: n }, () => Math.floor(next() * VOCAB)),
  );
}

function model(encoding: PositionEncoding[], maxPositions = 256): DecoderLM {
  return new DecoderLM(
    { vocabSize: VOCAB, modelDim: 16, layers: 1, heads: 2, maxPositions, seed: 2 },
    encoding,
  );
}

/** An encoding that records the positions every hook is given. */
class PositionSpy implements PositionEncoding {
  readonly name = 'spy';
  readonly config = {};
  readonly supports = ['softmax', 'linear'] as const;
  embedded: number[][] = [];
  queries: number[][] = [];
  keys: number[][] = [];
  embed(x: tf.Tensor3D, positions: Positions): tf.Tensor3D {
    if (positions.kind === '1d') this.embedded = positions.ids.arraySync();
    return x.clone();
  }
  scoreBias(_q: tf.Tensor4D, _k: tf.Tensor4D, ctx: AttentionContext): tf.Tensor {
    if (ctx.queryPositions.kind === '1d') this.queries = ctx.queryPositions.ids.arraySync();
    if (ctx.keyPositions.kind === '1d') this.keys = ctx.keyPositions.ids.arraySync();
    return tf.zeros([1]);
  }
}

function dispose(batch: ReturnType<typeof segmentBatch>): void {
  tf.dispose([
    batch.inputs,
    batch.targets,
    batch.positions.ids,
    ...(batch.lossMask ? [batch.lossMask] : []),
  ]);
}

describe('segmentBatch', () => {
  const docs = documents(1);
  const options = (method: 'chunk' | 'prefix'): SegmentBatchOptions => ({
    documents: docs,
    batch: 6,
    trainLength: 16,
    alpha: 0.25,
    method,
    extendedLength: 64,
    seed: 9,
  });

  for (const method of ['chunk', 'prefix'] as const)
    it(`${method}: tokens at the sampled ids, targets the true next tokens, never past a document's end`, () => {
      const rows = segmentRows(options(method), 3);
      const batch = segmentBatch(options(method), 3);
      const inputs = batch.inputs.arraySync();
      const targets = batch.targets.arraySync();
      const ids = batch.positions.ids.arraySync();
      rows.forEach(({ document, segment }, r) => {
        const doc = docs[document]!;
        expect(doc.length).toBeGreaterThanOrEqual(17); // shorter documents are never chosen
        ids[r]!.forEach((id, i) => {
          expect(id).toBe(segment.ids[i]);
          expect(id).toBeLessThan(64); // ids count from the Le window's start
          const at = segment.offset + id;
          expect(at + 1).toBeLessThan(doc.length);
          expect(inputs[r]![i]).toBe(doc[at]);
          expect(targets[r]![i]).toBe(doc[at + 1]);
        });
      });
      expect(batch.tokens).toBe(6 * 16);
      expect(batch.lossMask !== undefined).toBe(method === 'prefix');
      // Pure function of (seed, step): the same rows again, other rows at another step.
      expect(segmentRows(options(method), 3)).toEqual(rows);
      expect(segmentRows(options(method), 4)).not.toEqual(rows);
      dispose(batch);
    });

  it('prefix-α: the loss counts the suffix only (prefix targets do not matter)', () => {
    const lm = model([createEncoding({ name: 'learned' })]);
    const batch = segmentBatch(options('prefix'), 0);
    const lossOf = (b: typeof batch): number => tf.tidy(() => segmentLoss(lm, b).dataSync()[0]!);
    const loss = lossOf(batch);
    // Scramble every prefix target: the loss must not move.
    const mask = batch.lossMask!.arraySync();
    const scrambled = tf.tensor2d(
      batch.targets
        .arraySync()
        .map((row, r) => row.map((t, i) => (mask[r]![i] ? t : (t + 7) % VOCAB))),
      batch.targets.shape,
      'int32',
    );
    const again = lossOf({ ...batch, targets: scrambled });
    expect(again).toBeCloseTo(loss, 6);
    // ... while scrambling a suffix target does move it, and so would dropping the mask.
    const suffixChanged = tf.tensor2d(
      batch.targets
        .arraySync()
        .map((row, r) => row.map((t, i) => (mask[r]![i] ? (t + 7) % VOCAB : t))),
      batch.targets.shape,
      'int32',
    );
    expect(Math.abs(lossOf({ ...batch, targets: suffixChanged }) - loss)).toBeGreaterThan(1e-4);
    const { lossMask: _mask, ...unmasked } = batch;
    expect(Math.abs(lossOf(unmasked) - loss)).toBeGreaterThan(1e-4);
    tf.dispose([scrambled, suffixChanged]);
    dispose(batch);
    lm.dispose();
  });

  it('feeds the sampled ids to every position hook as explicit positions', () => {
    const spy = new PositionSpy();
    const lm = model([spy]);
    const batch = segmentBatch(options('chunk'), 1);
    segmentLoss(lm, batch).dispose();
    const ids = batch.positions.ids.arraySync();
    expect(spy.embedded).toEqual(ids);
    expect(spy.queries).toEqual(ids);
    expect(spy.keys).toEqual(ids);
    dispose(batch);
    lm.dispose();
  });

  for (const name of ['learned', 'sinusoidal', 'alibi'])
    it(`${name}: trains on segments, whose positions change the loss against contiguous ones`, () => {
      const lm = model([createEncoding({ name })]);
      const batch = segmentBatch(options('chunk'), 2);
      segmentLoss(lm, batch).dispose(); // ALiBi keeps its slopes after the first call
      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(() => segmentLoss(lm, batch));
      expect(Number.isFinite(value.dataSync()[0]!)).toBe(true);
      expect(Object.values(grads).every((g) => g.dataSync().every(Number.isFinite))).toBe(true);
      const contiguous = sequencePositions(6, 16);
      const plain = tf.tidy(
        () => segmentLoss(lm, { ...batch, positions: contiguous }).dataSync()[0]!,
      );
      expect(Math.abs(plain - value.dataSync()[0]!)).toBeGreaterThan(1e-7);
      tf.dispose([value, ...Object.values(grads), contiguous.ids]);
      expect(tf.memory().numTensors).toBe(before);
      dispose(batch);
      lm.dispose();
    });

  it('rejects corpora without a long enough document and bad options', () => {
    expect(() =>
      segmentBatch({ ...options('chunk'), documents: [Int32Array.of(1, 2, 3)] }, 0),
    ).toThrow(/no document has the trainLength \+ 1 = 17 tokens a sample needs \(longest: 3\)/);
    expect(() => segmentBatch({ ...options('chunk'), method: 'random' as 'chunk' }, 0)).toThrow(
      /method = "random"/,
    );
    expect(() => segmentBatch({ ...options('chunk'), batch: 0 }, 0)).toThrow(/batch = 0/);
  });
});
