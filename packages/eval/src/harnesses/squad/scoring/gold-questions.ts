/**
 * What the official scripts read of a SQuAD file: every question's id and ground-truth answer
 * texts, in file order (`data[].paragraphs[].qas[]`). Nothing else is checked here, so any file
 * the scripts can score can be scored (offsets that do not match their context are the
 * training loader's concern); a file they would crash on is refused with the path to the field.
 */

export type SquadVersion = '1.1' | '2.0';

export interface GoldQuestion {
  readonly id: string;
  /** Ground-truth answer texts; empty for an unanswerable (SQuAD 2.0) question. */
  readonly answers: readonly string[];
}

export interface GoldFile {
  /** The file's `version` field (`1.1`, `v2.0`), or undefined when it has none. */
  readonly version: string | undefined;
  readonly questions: readonly GoldQuestion[];
  /** Whether any question carries `is_impossible` (the SQuAD 2.0 format). */
  readonly hasImpossibleField: boolean;
}

export class SquadFormatError extends Error {
  constructor(file: string, path: string, problem: string) {
    super(`${file}: ${path} ${problem}`);
    this.name = 'SquadFormatError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function arrayAt(file: string, path: string, value: unknown): unknown[] {
  if (!Array.isArray(value))
    throw new SquadFormatError(file, path, `is ${describe(value)}; expected an array`);
  return value;
}

export function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

/** The questions of a parsed SQuAD JSON file; `file` names it in errors. */
export function goldQuestions(json: unknown, file: string): GoldFile {
  if (!isObject(json)) throw new SquadFormatError(file, 'the top level', 'is not an object');
  const version = json['version'];
  const questions: GoldQuestion[] = [];
  let hasImpossibleField = false;
  arrayAt(file, 'data', json['data']).forEach((article, a) => {
    const at = `data[${a}]`;
    if (!isObject(article)) throw new SquadFormatError(file, at, 'is not an object');
    arrayAt(file, `${at}.paragraphs`, article['paragraphs']).forEach((paragraph, p) => {
      const pat = `${at}.paragraphs[${p}]`;
      if (!isObject(paragraph)) throw new SquadFormatError(file, pat, 'is not an object');
      arrayAt(file, `${pat}.qas`, paragraph['qas']).forEach((qa, q) => {
        const qat = `${pat}.qas[${q}]`;
        if (!isObject(qa)) throw new SquadFormatError(file, qat, 'is not an object');
        const id = qa['id'];
        if (typeof id !== 'string')
          throw new SquadFormatError(file, `${qat}.id`, `is ${describe(id)}; expected a string`);
        if ('is_impossible' in qa) hasImpossibleField = true;
        const answers = arrayAt(file, `${qat}.answers`, qa['answers']).map((answer, i) => {
          const text = isObject(answer) ? answer['text'] : undefined;
          if (typeof text !== 'string')
            throw new SquadFormatError(
              file,
              `${qat}.answers[${i}].text`,
              `(question ${id}) is ${describe(text)}; expected a string`,
            );
          return text;
        });
        questions.push({ id, answers });
      });
    });
  });
  return {
    version: typeof version === 'string' ? version : undefined,
    questions,
    hasImpossibleField,
  };
}

/** `version` "v2.0" (or "2.0") or any `is_impossible` field means SQuAD 2.0; otherwise 1.1. */
export function squadVersionOf(gold: GoldFile): SquadVersion {
  return gold.version === 'v2.0' || gold.version === '2.0' || gold.hasImpossibleField
    ? '2.0'
    : '1.1';
}
