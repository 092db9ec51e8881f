/**
 * A trained cell's evaluation: every dev window's logits, the answers the reference decoding
 * picks from them, and the official script's scores of those answers against the dev file (every
 * question of it: a question the reader skipped is answered "" and so scores as the script
 * scores a wrong answer). The predictions (and, for SQuAD 2.0, the null odds) are written to the
 * cell's folder in the official format, so `posenc score squad` or the official script can score
 * them again; F1 per context-length bucket shows how each method fares as contexts grow.
 */
import { writeFileAtomic } from '../../io/atomic.js';
import type { EvaluateContext, Evaluation, MetricSpec } from '../../run/harness.js';
import { join } from 'node:path';
import type { SquadConfig } from './config.js';
import type { SquadData } from './data.js';
import type { Feature } from './data/features.js';
import type { SquadSession } from './model/session.js';
import { decodeAnswer } from './postprocess.js';
import { f1V1, f1V2, maxOverGroundTruths } from './scoring/metrics.js';
import { normalizeAnswer } from './scoring/normalize.js';
import { evaluateV1 } from './scoring/official-v1.js';
import { evaluateV2 } from './scoring/official-v2.js';

export const PREDICTIONS_FILE = 'predictions.json';
export const NULL_ODDS_FILE = 'na-probs.json';

export interface Bucket {
  key: string;
  title: string;
  /** Contexts of more than `from` and at most `to` characters. */
  from: number;
  to: number;
}

export function lengthBuckets(config: Pick<SquadConfig, 'lengthBuckets'>): Bucket[] {
  const edges = [...new Set(config.lengthBuckets)].sort((a, b) => a - b);
  const bounds = [0, ...edges, Infinity];
  return bounds.slice(1).map((to, i) => {
    const from = bounds[i]!;
    const title = to === Infinity ? `> ${from}` : from === 0 ? `≤ ${to}` : `${from + 1}–${to}`;
    return { key: `f1@context${to === Infinity ? `>${from}` : `≤${to}`}`, title, from, to };
  });
}

export function squadMetrics(config: SquadConfig): MetricSpec[] {
  return [
    { key: 'exact', title: 'EM', unit: '% (official SQuAD script)', higherIsBetter: true },
    { key: 'f1', title: 'F1', unit: '% (official SQuAD script)', higherIsBetter: true },
    ...lengthBuckets(config).map((b) => ({
      key: b.key,
      title: b.title,
      unit: '% F1 by context length (characters)',
      higherIsBetter: true,
    })),
  ];
}

export interface SquadDetails {
  version: '1.1' | '2.0';
  /** The official script's output. */
  official: Record<string, number>;
  /** Questions per context-length bucket. */
  bucketQuestions: Record<string, number>;
  predictionsFile: string;
}

interface Predicted {
  predictions: Record<string, string>;
  nullOdds: Record<string, number>;
}

export async function evaluateSquad(
  session: SquadSession,
  context: EvaluateContext<SquadConfig, SquadData>,
): Promise<Evaluation> {
  const started = performance.now();
  const { config, data, store } = context;
  const dev = data.dev;
  const predicted = await store.part<Predicted>('predictions', async () => {
    const logits = session.logits(dev.features);
    const byExample = new Map<
      number,
      { feature: Feature; start: Float32Array; end: Float32Array }[]
    >();
    dev.features.forEach((feature, i) => {
      const list = byExample.get(feature.example) ?? [];
      list.push({ feature, ...logits[i]! });
      byExample.set(feature.example, list);
    });
    const predictions: Record<string, string> = {};
    const nullOdds: Record<string, number> = {};
    dev.set.examples.forEach((example, i) => {
      const decoded = decodeAnswer(example.context, dev.tokenized[i]!, byExample.get(i) ?? [], {
        nBest: config.nBest,
        maxAnswerLength: config.maxAnswerLength,
        ...(dev.set.version === '2.0' && { nullThreshold: config.nullThreshold }),
      });
      predictions[example.id] = decoded.text;
      nullOdds[example.id] = Number.isFinite(decoded.nullOdds) ? decoded.nullOdds : 1e9;
    });
    for (const s of dev.set.skipped) predictions[s.id] ??= '';
    return { predictions, nullOdds };
  });
  const predictionsFile = join(store.dir, PREDICTIONS_FILE);
  await writeFileAtomic(predictionsFile, JSON.stringify(predicted.predictions) + '\n');
  const predictions = new Map(Object.entries(predicted.predictions));
  const questions = dev.set.gold.questions;
  let official: Record<string, number>;
  let f1Of: (id: string, answers: readonly string[]) => number;
  if (dev.set.version === '1.1') {
    official = { ...evaluateV1(questions, predictions).scores };
    f1Of = (id, answers) => maxOverGroundTruths(id, answers, (g) => f1V1(predictions.get(id)!, g));
  } else {
    await writeFileAtomic(
      join(store.dir, NULL_ODDS_FILE),
      JSON.stringify(predicted.nullOdds) + '\n',
    );
    official = evaluateV2(questions, predictions).scores;
    f1Of = (id, answers) => {
      const gold = answers.filter((a) => normalizeAnswer(a));
      return Math.max(...(gold.length ? gold : ['']).map((g) => f1V2(g, predictions.get(id)!)));
    };
  }
  const contextOf = new Map(dev.set.examples.map((e) => [e.id, e.context.length]));
  const metrics: Record<string, number> = {
    exact: official['exact_match'] ?? official['exact']!,
    f1: official['f1']!,
  };
  const bucketQuestions: Record<string, number> = {};
  for (const b of lengthBuckets(config)) {
    const inBucket = questions.filter((q) => {
      const n = contextOf.get(q.id);
      return n !== undefined && n > b.from && n <= b.to;
    });
    bucketQuestions[b.key] = inBucket.length;
    if (inBucket.length)
      metrics[b.key] =
        (100 * inBucket.reduce((s, q) => s + f1Of(q.id, q.answers), 0)) / inBucket.length;
  }
  context.report(
    `EM ${metrics['exact']!.toFixed(2)}  F1 ${metrics['f1']!.toFixed(2)}  (${questions.length} questions)`,
  );
  const details: SquadDetails = {
    version: dev.set.version,
    official,
    bucketQuestions,
    predictionsFile,
  };
  return {
    metrics,
    details: details as unknown as Record<string, unknown>,
    wallMs: performance.now() - started,
  };
}
