/**
 * A trained cell's evaluation: top-1 and top-5 accuracy on the evaluation images at every
 * evaluation size (the training size, and larger ones: how the position method extrapolates to
 * more patches), and images per second at each. Each size is kept as soon as it is computed.
 */
import { tf } from '@posenc/core';
import type { EvaluateContext, Evaluation, MetricSpec } from '../../run/harness.js';
import type { ImageConfig } from './config.js';
import { asTensors, evaluationBatch } from './data/batches.js';
import type { ImageData } from './data/image-data.js';
import type { ImageSession } from './methods/session.js';

export interface SizeEvaluation {
  size: number;
  /** Percent of the images whose label is the top (top-5: among the 5 top) logit. */
  top1: number;
  top5: number;
  images: number;
  wallMs: number;
}

/** What an image cell's record carries in `details`. */
export interface ImageDetails {
  evaluations: SizeEvaluation[];
  /** Buckets of each iRPE table of a layer, when the method has iRPE. */
  buckets?: number[];
}

export const EVAL_SPEED_KEY = 'eval-images-per-second';

export const topKey = (k: 1 | 5, size: number) => `top${k}@${size}`;

export function sizeTitle(config: Pick<ImageConfig, 'imageSize'>, size: number): string {
  return `${size}px${size === config.imageSize ? ' (= train)' : ''}`;
}

export function accuracyMetrics(config: ImageConfig, k: 1 | 5): MetricSpec[] {
  return config.evalSizes.map((size) => ({
    key: topKey(k, size),
    title: sizeTitle(config, size),
    unit: `% top-${k}`,
    higherIsBetter: true,
  }));
}

export function imageMetrics(config: ImageConfig): MetricSpec[] {
  return [
    ...accuracyMetrics(config, 1),
    ...accuracyMetrics(config, 5),
    {
      key: EVAL_SPEED_KEY,
      title: `eval img/s at ${config.imageSize}px`,
      unit: 'images per second',
      higherIsBetter: true,
    },
  ];
}

async function evaluateAt(
  session: ImageSession,
  data: ImageData,
  config: ImageConfig,
  size: number,
): Promise<SizeEvaluation> {
  const started = performance.now();
  const k = Math.min(5, data.classes.length);
  let top1 = 0;
  let top5 = 0;
  const prepare = (from: number) => evaluationBatch(data.val, config, size, from, config.batch);
  let next = prepare(0);
  for (let from = 0; from < data.val.length; from += config.batch) {
    const batch = asTensors(await next);
    // The next batch is cropped on sharp's threads while this one runs.
    if (from + config.batch < data.val.length) next = prepare(from + config.batch);
    const [hits1, hitsK] = tf.tidy(() => {
      const { logits } = session.model.forward(batch.images);
      const { indices } = tf.topk(logits, k);
      const hit = tf.equal(indices, batch.labels.expandDims(1));
      return [hit.slice([0, 0], [-1, 1]).sum().dataSync()[0]!, hit.any(1).sum().dataSync()[0]!];
    });
    tf.dispose([batch.images, batch.labels]);
    top1 += hits1!;
    top5 += hitsK!;
  }
  const images = data.val.length;
  return {
    size,
    top1: (100 * top1) / images,
    top5: (100 * top5) / images,
    images,
    wallMs: performance.now() - started,
  };
}

export async function evaluateImage(
  session: ImageSession,
  context: EvaluateContext<ImageConfig, ImageData>,
): Promise<Evaluation> {
  const { config, data, store } = context;
  const evaluations: SizeEvaluation[] = [];
  for (const size of config.evalSizes) {
    const result = await store.part(`eval@${size}`, () => evaluateAt(session, data, config, size));
    context.report(
      `${size}px  top-1 ${result.top1.toFixed(2)}%  top-5 ${result.top5.toFixed(2)}%  (${result.images} images, ${(result.wallMs / 1000).toFixed(1)} s)`,
    );
    evaluations.push(result);
  }
  const atTrain = evaluations.find((e) => e.size === config.imageSize) ?? evaluations[0]!;
  const details: ImageDetails = {
    evaluations,
    ...(session.buckets && { buckets: session.buckets }),
  };
  return {
    metrics: {
      ...Object.fromEntries(
        evaluations.flatMap((e) => [
          [topKey(1, e.size), e.top1],
          [topKey(5, e.size), e.top5],
        ]),
      ),
      [EVAL_SPEED_KEY]: atTrain.images / (atTrain.wallMs / 1000),
    },
    details: details as unknown as Record<string, unknown>,
    wallMs: evaluations.reduce((t, e) => t + e.wallMs, 0),
  };
}
