/**
 * What a method row of the image harness builds for a cell: the shared ViT with the method's
 * encodings, trained on random-resized crops (the same images, crops and order for every method
 * of a seed), and what its report states (the buckets of its iRPE tables).
 */
import { ViT, type PositionEncoding } from '@posenc/core';
import type { MethodRow, SessionContext, TrainingSession } from '../../../run/harness.js';
import type { ImageConfig } from '../config.js';
import { asTensors, trainingBatch, type ImageBatch, type PreparedBatch } from '../data/batches.js';
import type { ImageData } from '../data/image-data.js';

export interface ImageSession extends TrainingSession<ImageBatch> {
  readonly model: ViT;
  /** Buckets of each iRPE table of a layer (cross: rows and columns), when the method has iRPE. */
  readonly buckets?: number[];
}

export type ImageSessionContext = SessionContext<ImageConfig, ImageData>;
export type ImageRow = MethodRow<ImageConfig, ImageData, ImageSession>;

/** The shared model: same shape and seed for every method; a class token in front. */
export function createViT(
  context: ImageSessionContext,
  encodings: readonly PositionEncoding[],
): ViT {
  const { config, data, seed } = context;
  const { modelDim, layers, heads, ffnDim, patchSize, init } = config.model;
  return new ViT(
    {
      imageSize: config.imageSize,
      patchSize,
      channels: config.channels,
      classes: data.classes.length,
      modelDim,
      layers,
      heads,
      ffnDim,
      init,
      seed,
    },
    encodings,
  );
}

/** Bucket counts of an encoding that has them (iRPE's tables). */
function bucketsOf(encodings: readonly PositionEncoding[]): number[] | undefined {
  for (const e of encodings)
    if ('bucketCounts' in e && Array.isArray(e.bucketCounts)) return e.bucketCounts as number[];
  return undefined;
}

export function imageSession(
  context: ImageSessionContext,
  encodings: readonly PositionEncoding[],
  notes: string[] = [],
): ImageSession {
  const model = createViT(context, encodings);
  const buckets = bucketsOf(encodings);
  const { config, data, seed } = context;
  // The next step's batch is prepared while this one computes; each is still a function of its step.
  const ahead = new Map<number, Promise<PreparedBatch>>();
  const prepare = (step: number) => trainingBatch(data.train, config, seed, step);
  const batchAt = async (step: number): Promise<ImageBatch> => {
    const ready = ahead.get(step) ?? prepare(step);
    ahead.clear();
    if (step + 1 < config.steps) {
      const next = prepare(step + 1);
      next.catch(() => {}); // a failure surfaces when its step awaits it
      ahead.set(step + 1, next);
    }
    return asTensors(await ready);
  };
  return {
    model,
    notes,
    ...(buckets && { buckets }),
    parameters: () => model.parameters(),
    batchAt,
    loss: (batch) => model.loss(batch.images, batch.labels, { training: true }),
    dispose: () => model.dispose(),
  };
}
