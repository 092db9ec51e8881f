/**
 * The SQuAD JSON of v1.1 and v2.0 read for training and evaluation: every question with its
 * context, its answers (text and character offset) and, in v2.0, whether it is unanswerable
 * (`is_impossible`, no answers). A file that is not SQuAD's shape is refused with the path to the
 * field; a question that cannot be trained on faithfully — an answer whose offset does not point
 * at its text in the context, a missing field, an answerable question without answers — is
 * skipped with its id and the reason, and counted, never silently misaligned.
 */
import {
  describe,
  goldQuestions,
  squadVersionOf,
  SquadFormatError,
  type GoldFile,
  type SquadVersion,
} from '../scoring/gold-questions.js';

export interface SquadAnswer {
  readonly text: string;
  /** Character offset of the answer in the context (UTF-16 code units, as Python's str). */
  readonly start: number;
}

export interface SquadExample {
  readonly id: string;
  readonly title: string;
  readonly question: string;
  readonly context: string;
  /** Every ground truth; training uses the first. Empty when unanswerable. */
  readonly answers: readonly SquadAnswer[];
  readonly impossible: boolean;
}

export interface SkippedQuestion {
  readonly id: string;
  readonly reason: string;
}

export interface SquadSet {
  /** Where it came from: a path, or what generated it. */
  readonly source: string;
  readonly version: SquadVersion;
  readonly examples: readonly SquadExample[];
  readonly skipped: readonly SkippedQuestion[];
  /** What the official scripts read of the file (every question, skipped ones included). */
  readonly gold: GoldFile;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A question's problem, or its answers. */
function readAnswers(
  qa: Record<string, unknown>,
  context: string,
  version: SquadVersion,
): SquadAnswer[] | string {
  const impossible = qa['is_impossible'];
  if (impossible !== undefined && typeof impossible !== 'boolean')
    return `is_impossible is ${describe(impossible)}; expected true or false`;
  const raw = qa['answers'] as unknown[];
  if (impossible === true) {
    if (raw.length > 0) return `is_impossible is true but it has ${raw.length} answer(s)`;
    return [];
  }
  if (raw.length === 0)
    return version === '2.0'
      ? 'no answers and is_impossible is not true'
      : 'no answers (SQuAD 1.1 questions need one)';
  const answers: SquadAnswer[] = [];
  for (const [i, a] of raw.entries()) {
    const text = (a as Record<string, unknown>)['text'] as string;
    const start = isObject(a) ? a['answer_start'] : undefined;
    if (typeof start !== 'number' || !Number.isInteger(start) || start < 0)
      return `answers[${i}].answer_start is ${describe(start)}; expected a character offset`;
    const found = context.slice(start, start + text.length);
    if (found !== text)
      return `answers[${i}] ${JSON.stringify(text)} does not match the context at answer_start ${start} (${JSON.stringify(found)})`;
    if (text.trim() === '') return `answers[${i}] is blank`;
    answers.push({ text, start });
  }
  return answers;
}

/** A parsed SQuAD file; `source` names it in errors. Throws `SquadFormatError` on a bad shape. */
export function readSquadSet(json: unknown, source: string): SquadSet {
  const gold = goldQuestions(json, source);
  const version = squadVersionOf(gold);
  const examples: SquadExample[] = [];
  const skipped: SkippedQuestion[] = [];
  const data = (json as { data: unknown[] }).data;
  data.forEach((article, a) => {
    const title =
      typeof (article as Record<string, unknown>)['title'] === 'string'
        ? ((article as Record<string, unknown>)['title'] as string)
        : '';
    ((article as Record<string, unknown>)['paragraphs'] as unknown[]).forEach((paragraph, p) => {
      const context = (paragraph as Record<string, unknown>)['context'];
      const qas = (paragraph as Record<string, unknown>)['qas'] as Record<string, unknown>[];
      if (typeof context !== 'string')
        throw new SquadFormatError(
          source,
          `data[${a}].paragraphs[${p}].context`,
          `is ${describe(context)}; expected a string`,
        );
      for (const qa of qas) {
        const id = qa['id'] as string;
        const question = qa['question'];
        if (typeof question !== 'string') {
          skipped.push({ id, reason: `question is ${describe(question)}; expected a string` });
          continue;
        }
        const answers = readAnswers(qa, context, version);
        if (typeof answers === 'string') skipped.push({ id, reason: answers });
        else
          examples.push({
            id,
            title,
            question,
            context,
            answers,
            impossible: answers.length === 0,
          });
      }
    });
  });
  return { source, version, examples, skipped, gold };
}
