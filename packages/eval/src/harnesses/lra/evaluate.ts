/**
 * A cell's evaluation: accuracy on the dataset's test examples (one fixed draw of SPE noise and
 * FAVOR+ features), the majority class's accuracy beside it, evaluation throughput, and the
 * memory of one training step (the peak of bytes held by tensors during forward and backward,
 * beyond what was held before: activations and gradients, as tf.profile counts them on any
 * backend). Finished parts are kept in the cell's store.
 */
import { tf } from '@posenc/core';
import type { Evaluation, EvaluateContext, MetricSpec } from '../../run/harness.js';
import type { LraConfig } from './config.js';
import { scoredTest, type LraData } from './data.js';
import { EVALUATION_DRAW, type LraSession } from './methods/session.js';

export const LRA_METRICS: readonly MetricSpec[] = [
  { key: 'accuracy', title: 'accuracy', unit: '% of test examples', higherIsBetter: true },
  { key: 'majority', title: 'majority class', unit: '% of test examples', higherIsBetter: true },
  { key: 'eval-tokens-per-second', title: 'eval tokens/s', unit: 'tokens/s', higherIsBetter: true },
  { key: 'step-memory-mib', title: 'step memory', unit: 'MiB', higherIsBetter: false },
];

export async function evaluateLra(
  session: LraSession,
  context: EvaluateContext<LraConfig, LraData>,
): Promise<Evaluation> {
  const started = performance.now();
  const test = scoredTest(context.config, session.data);
  const scored = await context.store.part('accuracy', async () => {
    session.setDraw(EVALUATION_DRAW);
    let correct = 0;
    let tokens = 0;
    const t0 = performance.now();
    for (let start = 0; start < test.length; start += session.batchSize) {
      const batch = session.batchOf(test.slice(start, start + session.batchSize));
      const predicted = tf.tidy(() => tf.argMax(session.model.logits(batch), 1));
      const p = predicted.dataSync();
      const labels = batch.labels.dataSync();
      for (let i = 0; i < p.length; i++) if (p[i] === labels[i]) correct++;
      tokens += batch.tokens ?? 0;
      tf.dispose([predicted, batch.ids, batch.labels, ...(batch.second ? [batch.second] : [])]);
    }
    const seconds = (performance.now() - t0) / 1000;
    context.report(
      `${session.task}: accuracy ${((100 * correct) / test.length).toFixed(2)}% on ${test.length} test examples`,
    );
    return { accuracy: correct / test.length, tokensPerSecond: tokens / seconds };
  });
  const stepMemory = await context.store.part('step-memory', async () => {
    const batch = await session.batchAt(0, 0);
    const parameters = Object.values(session.parameters()).filter((v) => v.trainable);
    const before = tf.memory().numBytes;
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(
        () => session.loss(batch, { step: 0, micro: 0, seed: 0 }),
        parameters,
      );
      tf.dispose([value, ...Object.values(grads)]);
    });
    tf.dispose([batch.ids, batch.labels, ...(batch.second ? [batch.second] : [])]);
    return (profile.peakBytes - before) / 2 ** 20;
  });
  return {
    metrics: {
      accuracy: 100 * scored.accuracy,
      majority: 100 * session.data.majority,
      'eval-tokens-per-second': scored.tokensPerSecond,
      'step-memory-mib': stepMemory,
    },
    details: { task: session.task, testExamples: test.length, source: session.data.source },
    wallMs: performance.now() - started,
  };
}
