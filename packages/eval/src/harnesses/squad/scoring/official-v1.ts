/**
 * `evaluate-v1.1.py`'s `evaluate(dataset, predictions)`: the maximum exact match and F1 of each
 * prediction over its question's ground truths, summed in file order and divided by every
 * question of the file (an unanswered question scores 0 and is named in a message, as the
 * script does on stderr).
 */
import type { GoldQuestion } from './gold-questions.js';
import { exactMatch, f1V1, maxOverGroundTruths } from './metrics.js';

export interface V1Scores {
  exact_match: number;
  f1: number;
}

export interface V1Evaluation {
  scores: V1Scores;
  /** The script's stderr lines: `Unanswered question <id> will receive score 0.` */
  messages: string[];
}

export function evaluateV1(
  questions: readonly GoldQuestion[],
  predictions: ReadonlyMap<string, string>,
): V1Evaluation {
  if (questions.length === 0)
    throw new Error('the data has no questions (the v1.1 script divides by their number)');
  let exact = 0;
  let f1 = 0;
  const messages: string[] = [];
  for (const question of questions) {
    const prediction = predictions.get(question.id);
    if (prediction === undefined) {
      messages.push(`Unanswered question ${question.id} will receive score 0.`);
      continue;
    }
    exact += maxOverGroundTruths(question.id, question.answers, (g) => exactMatch(prediction, g));
    f1 += maxOverGroundTruths(question.id, question.answers, (g) => f1V1(prediction, g));
  }
  return {
    scores: {
      exact_match: (100.0 * exact) / questions.length,
      f1: (100.0 * f1) / questions.length,
    },
    messages,
  };
}
