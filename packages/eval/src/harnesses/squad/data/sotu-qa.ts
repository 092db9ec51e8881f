/**
 * The embedded default: an extractive QA set in SQuAD v1.1 format made from the State of the
 * Union addresses, deterministically. An address is cut into sentences and the sentences into
 * paragraphs of 2–6 (at most `maxContextChars`); in a paragraph's sentences an entity-like span
 * — a run of capitalised words not opening the sentence, or a number — is the answer, and the
 * question is that sentence around it with the span replaced by `___` (a few words either side).
 * So the task is to find the sentence the question quotes and read off what is missing: a cloze
 * that rewards matching text across distances, not knowledge. Train questions come from the
 * training split's addresses, dev questions from the validation split's (the LM task's split).
 */
import { loadSotu } from '../../../corpus/sotu.js';
import type { SplitName } from '../../../corpus/corpus.js';

export interface SotuQaSpec {
  trainQuestions: number;
  devQuestions: number;
  maxContextChars: number;
  /** Words kept either side of the blank. */
  questionWords: number;
}

/** Words that open clauses or address the audience: capitalised, but no entity alone. */
const NOT_ENTITIES = new Set(
  'I A An The It We Our This That These Those But And In On At For To Of As By Mr Mrs Sir Gentlemen Fellow If When While With From Such No Yet So Its Their They He She His Her There Let'.split(
    ' ',
  ),
);

const SENTENCE_END = /(?<=[.!?])\s+(?=["“A-Z])/u;
const CANDIDATE =
  /(?<![\w$])(?:\$?\d[\d,]*(?:\.\d+)?|[A-Z][a-z]+(?:\s+(?:of\s+(?:the\s+)?)?[A-Z][a-z]+)*)(?![\w])/gu;

export interface Span {
  start: number;
  text: string;
}

/**
 * Entity-like spans of a sentence: a run's leading words are dropped while they open the
 * sentence, are clause words (`The`, `Our`) or titles, or are the `of the` that joined them.
 */
export function entitySpans(sentence: string): Span[] {
  const spans: Span[] = [];
  for (const m of sentence.matchAll(CANDIDATE)) {
    let start = m.index;
    let text = m[0];
    for (;;) {
      const word = /^\S+/.exec(text)![0];
      const drop = start === 0 || NOT_ENTITIES.has(word) || word === 'of' || word === 'the';
      if (!drop) break;
      const rest = /^\S+\s+/.exec(text);
      if (!rest) {
        text = '';
        break;
      }
      start += rest[0].length;
      text = text.slice(rest[0].length);
    }
    if (text) spans.push({ start, text });
  }
  return spans;
}

/** A deterministic 32-bit hash of a string (FNV-1a), for choices that must not change. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

interface Paragraph {
  address: string;
  context: string;
  /** Offsets of its sentences in `context`. */
  sentences: { start: number; text: string }[];
}

function paragraphsOf(address: string, text: string, maxChars: number): Paragraph[] {
  const sentences = text
    .split(SENTENCE_END)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const out: Paragraph[] = [];
  let i = 0;
  while (i < sentences.length) {
    const want = 2 + (hash(`${address}:${i}`) % 5);
    const group: string[] = [];
    while (i < sentences.length && group.length < want) {
      const next = [...group, sentences[i]!].join(' ');
      if (group.length > 0 && next.length > maxChars) break;
      group.push(sentences[i]!);
      i++;
    }
    const context = group.join(' ');
    if (context.length > maxChars) continue; // one sentence longer than a context may be
    let at = 0;
    out.push({
      address,
      context,
      sentences: group.map((s) => {
        const start = at;
        at += s.length + 1;
        return { start, text: s };
      }),
    });
  }
  return out;
}

function questionFor(sentence: string, span: Span, words: number): string {
  const before = sentence.slice(0, span.start).split(/\s+/).filter(Boolean).slice(-words);
  const after = sentence
    .slice(span.start + span.text.length)
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, words);
  return [...before, '___', ...after].join(' ');
}

/** The corpus, read once per process (its files are the same for every build). */
let sotu: ReturnType<typeof loadSotu> | undefined;

interface Qa {
  id: string;
  question: string;
  answers: { text: string; answer_start: number }[];
}

/** The questions of one split, up to `count`, spread evenly over its paragraphs. */
async function splitQuestions(split: SplitName, count: number, spec: SotuQaSpec) {
  const corpus = (sotu ??= loadSotu());
  const paragraphs: Paragraph[] = [];
  let index = 0;
  for await (const text of corpus.splits[split].units())
    paragraphs.push(...paragraphsOf(`${split}-${index++}`, text, spec.maxContextChars));
  const perParagraph = paragraphs.map((p) =>
    p.sentences.flatMap((s, k) => {
      const spans = entitySpans(s.text);
      if (!spans.length) return [];
      const span = spans[hash(`${p.address}:${s.start}`) % spans.length]!;
      return [{ k, s, span }];
    }),
  );
  const available = perParagraph.reduce((n, q) => n + q.length, 0);
  // Every paragraph whose turn comes, so the set spans the eras of the split.
  const take = Math.max(1, Math.floor(available / Math.max(1, count)));
  const data: { title: string; paragraphs: { context: string; qas: Qa[] }[] }[] = [];
  let made = 0;
  perParagraph.forEach((questions, p) => {
    if (made >= count || p % take !== 0 || questions.length === 0) return;
    const paragraph = paragraphs[p]!;
    const qas = questions.slice(0, count - made).map(({ s, span }, q) => ({
      id: `sotu-${split}-${p}-${q}`,
      question: questionFor(s.text, span, spec.questionWords),
      answers: [{ text: span.text, answer_start: s.start + span.start }],
    }));
    made += qas.length;
    data.push({ title: paragraph.address, paragraphs: [{ context: paragraph.context, qas }] });
  });
  return { data, available };
}

export interface SotuQaFiles {
  /** SQuAD v1.1 JSON texts, as written to the run folder. */
  train: string;
  dev: string;
}

export async function buildSotuQa(spec: SotuQaSpec): Promise<SotuQaFiles> {
  const [train, dev] = await Promise.all([
    splitQuestions('train', spec.trainQuestions, spec),
    splitQuestions('valid', spec.devQuestions, spec),
  ]);
  const file = (data: unknown) => JSON.stringify({ version: '1.1', data }) + '\n';
  return { train: file(train.data), dev: file(dev.data) };
}
