/**
 * A method's model for one cell: core's Encoder with the method's encodings and a SpanHead
 * (BERT's `qa_outputs`), the same shape and seed for every method; or, from an HF RoFormer
 * checkpoint, roformer's RoFormer with the same head. Training takes random windows of the
 * training set (the same windows in the same order for every method of a seed) and minimises
 * the mean of the start and end cross-entropies; evaluation returns every window's logits.
 */
import {
  Encoder,
  generatorFor,
  SpanHead,
  tf,
  type Parameters,
  type PositionEncoding,
  type SequencePositions,
  type StepContext,
  type TrainBatch,
} from '@posenc/core';
import type { SessionContext, TrainingSession } from '../../../run/harness.js';
import type { SquadConfig } from '../config.js';
import type { SquadData } from '../data.js';
import type { Feature } from '../data/features.js';
import { assignOwnWeights } from './init-checkpoint.js';

export interface SquadBatch extends TrainBatch {
  ids: tf.Tensor2D;
  tokenTypes: tf.Tensor2D;
  mask: tf.Tensor2D;
  positions: SequencePositions;
  starts: tf.Tensor1D;
  ends: tf.Tensor1D;
}

/** What the session needs of a model: Encoder and RoFormer both are this. */
export interface SpanEncoder {
  parameters(): Parameters;
  forward(
    tokens: tf.Tensor2D,
    call: {
      attentionMask?: tf.Tensor2D;
      tokenTypes?: tf.Tensor2D;
      positions?: SequencePositions;
      training?: boolean;
      dropoutSeed?: number;
    },
  ): { hidden: tf.Tensor3D };
  dispose(): void;
}

export interface WindowLogits {
  start: Float32Array;
  end: Float32Array;
}

export interface SquadSession extends TrainingSession<SquadBatch> {
  /** Start/end logits of each window, in order. */
  logits(features: readonly Feature[]): WindowLogits[];
}

export type SquadSessionContext = SessionContext<SquadConfig, SquadData>;

/** Windows per evaluation forward pass. */
const EVAL_BATCH = 64;

/** Padded input tensors of some windows. */
export function windowBatch(features: readonly Feature[], length: number, pad: number) {
  const grid = (get: (f: Feature) => number[], fill: number) =>
    features.flatMap((f) => {
      const row = get(f);
      return [...row, ...new Array<number>(length - row.length).fill(fill)];
    });
  const shape: [number, number] = [features.length, length];
  return {
    ids: tf.tensor2d(
      grid((f) => f.ids, pad),
      shape,
      'int32',
    ),
    tokenTypes: tf.tensor2d(
      grid((f) => f.tokenTypes, 0),
      shape,
      'int32',
    ),
    mask: tf.tensor2d(
      grid((f) => f.ids.map(() => 1), 0),
      shape,
      'float32',
    ),
    positions: {
      kind: '1d',
      // Padding continues the numbering, so no position table is asked for a row it lacks.
      ids: tf.tensor2d(
        features.flatMap((f) => {
          const last = f.positions[f.positions.length - 1]!;
          return [
            ...f.positions,
            ...Array.from({ length: length - f.positions.length }, () => last),
          ];
        }),
        shape,
        'float32',
      ),
    } as SequencePositions,
  };
}

export function createEncoderModel(
  context: SquadSessionContext,
  encodings: readonly PositionEncoding[],
): Encoder {
  const { model } = context.config;
  return new Encoder(
    {
      vocabSize: context.data.tokenizer.vocabSize,
      modelDim: model.modelDim,
      layers: model.layers,
      heads: model.heads,
      ffnDim: model.ffnDim,
      maxPositions: context.data.maxPositions,
      typeVocabSize: 2,
      norm: 'pre',
      seed: context.seed,
    },
    encodings,
  );
}

/** `modelDim`: the width of the encoder's output, which the span head reads. */
export function spanSession(
  context: SquadSessionContext,
  encoder: SpanEncoder,
  modelDim: number,
  notes: string[] = [],
): SquadSession {
  const { config, data, seed } = context;
  const head = new SpanHead({ modelDim, seed });
  const parameters = () => ({ ...encoder.parameters(), ...head.parameters() });
  const init = data.init;
  if (init?.kind === 'posenc') {
    const report = assignOwnWeights(init, parameters());
    notes.push(
      `initialised from ${init.file}: ${report.loaded.length} tensors${report.missing.length ? `; new: ${report.missing.join(', ')}` : ''}`,
    );
  }
  const train = data.train.features;
  const pad = data.tokenizer.pad;
  return {
    notes,
    parameters,
    batchAt(step) {
      const r = generatorFor(seed, step);
      const chosen = Array.from(
        { length: config.batch },
        () => train[Math.floor(r() * train.length)]!,
      );
      return {
        ...windowBatch(chosen, config.maxLength, pad),
        starts: tf.tensor1d(
          chosen.map((f) => f.start),
          'int32',
        ),
        ends: tf.tensor1d(
          chosen.map((f) => f.end),
          'int32',
        ),
        tokens: chosen.reduce((n, f) => n + f.ids.length, 0),
      };
    },
    loss(batch, step: StepContext) {
      return tf.tidy(() => {
        const { hidden } = encoder.forward(batch.ids, {
          attentionMask: batch.mask,
          tokenTypes: batch.tokenTypes,
          positions: batch.positions,
          training: true,
          dropoutSeed: step.seed,
        });
        return head.loss(hidden, batch.starts, batch.ends, { attentionMask: batch.mask });
      });
    },
    logits(features) {
      const out: WindowLogits[] = [];
      for (let i = 0; i < features.length; i += EVAL_BATCH) {
        const chunk = features.slice(i, i + EVAL_BATCH);
        const length = Math.max(...chunk.map((f) => f.ids.length));
        const b = windowBatch(chunk, length, pad);
        const [start, end] = tf.tidy(() => {
          const { hidden } = encoder.forward(b.ids, {
            attentionMask: b.mask,
            tokenTypes: b.tokenTypes,
            positions: b.positions,
          });
          const logits = head.apply(hidden, { attentionMask: b.mask });
          return [logits.start, logits.end];
        });
        const s = start!.dataSync() as Float32Array;
        const e = end!.dataSync() as Float32Array;
        chunk.forEach((_, k) =>
          out.push({
            start: s.slice(k * length, (k + 1) * length),
            end: e.slice(k * length, (k + 1) * length),
          }),
        );
        tf.dispose([start!, end!, b.ids, b.tokenTypes, b.mask, b.positions.ids]);
      }
      return out;
    },
    dispose() {
      encoder.dispose();
      head.dispose();
    },
  };
}
