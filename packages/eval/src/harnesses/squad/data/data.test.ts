/**
 * The SQuAD data path: the reader (skipped questions with their ids and reasons, a malformed file
 * named by its field), character offsets (every answer of the embedded set and of a SQuAD-shaped
 * fixture maps to a token span that decodes back to the answer text, with bytes, WordPiece and
 * byte-level BPE), windows with a document stride and their positions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BYTELEVEL_TOKENIZER_FIXTURE,
  SQUAD_FIXTURES,
  WORDPIECE_TOKENIZER_FIXTURE,
} from '../../../testing/paths.js';
import { SQUAD_PRESETS } from '../presets.js';
import { SquadFormatError } from '../scoring/gold-questions.js';
import {
  featuresOf,
  tokenizeExample,
  tokenSpanOf,
  windowStarts,
  type WindowSpec,
} from './features.js';
import { buildSotuQa, entitySpans } from './sotu-qa.js';
import { loadSpanTokenizer, type SpanTokenizer } from './span-tokenizer.js';
import { readSquadSet, type SquadSet } from './squad-file.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(join(SQUAD_FIXTURES, name), 'utf8')) as unknown;

/**
 * Every answer of every usable question decodes back from its token span, whole and in each
 * window that holds it (which targets it; the others target [CLS]). Returns the problems found
 * (plain comparisons: thousands of answers) and the number of answers checked.
 */
function answerProblems(set: SquadSet, tokenizer: SpanTokenizer, spec: WindowSpec) {
  const problems: string[] = [];
  let checked = 0;
  set.examples.forEach((example, i) => {
    const tokenized = tokenizeExample(example, tokenizer);
    const { starts, ends } = tokenized.context;
    const decode = (first: number, last: number) =>
      example.context.slice(starts[first]!, ends[last]!);
    for (const answer of example.answers) {
      checked++;
      const span = tokenSpanOf(tokenized.context, answer.start, answer.text.length);
      if (!span || decode(span[0], span[1]) !== answer.text)
        problems.push(
          `${example.id}: ${JSON.stringify(answer.text)} → ${span && JSON.stringify(decode(span[0], span[1]))}`,
        );
    }
    if (!example.answers.length) return;
    const features = featuresOf(tokenized, i, tokenizer, spec);
    for (const f of features) {
      if (f.start > 0 !== f.end > 0)
        problems.push(`${example.id}: window ${f.windowStart} targets half a span`);
      if (f.start === 0) continue;
      const first = f.windowStart + f.start - f.contextOffset;
      const last = f.windowStart + f.end - f.contextOffset;
      if (
        decode(first, last) !== example.answers[0]!.text ||
        f.ids[f.start] !== tokenized.context.ids[first]
      )
        problems.push(
          `${example.id}: window ${f.windowStart} decodes ${JSON.stringify(decode(first, last))}`,
        );
    }
    const [a, b] = tokenized.answer!;
    if (
      b - a + 1 <= spec.maxLength - spec.maxQuestion - 3 - spec.docStride &&
      !features.some((f) => f.start > 0)
    )
      problems.push(`${example.id}: no window holds the answer`);
  });
  return { problems, checked };
}

const SPEC: WindowSpec = { maxLength: 48, maxQuestion: 12, docStride: 16, positions: 'document' };

describe('SQuAD data', () => {
  it('reads v1.1 and v2.0 files: answers with offsets, unanswerable questions', () => {
    const v1 = readSquadSet(fixture('mini-v1.1.json'), 'mini-v1.1.json');
    expect(v1.version).toBe('1.1');
    expect(v1.skipped).toEqual([]);
    expect(v1.examples.length).toBe(v1.gold.questions.length);
    const v2 = readSquadSet(fixture('mini-v2.0.json'), 'mini-v2.0.json');
    expect(v2.version).toBe('2.0');
    expect(v2.examples.filter((e) => e.impossible).map((e) => e.id)).toEqual([
      'fx-impossible-1',
      'fx-impossible-2',
    ]);
    expect(v2.examples.find((e) => e.impossible)!.answers).toEqual([]);
  });

  it('skips a question whose offset does not match its context, naming its id and the reason', () => {
    const set = readSquadSet(fixture('bad-offsets-v1.1.json'), 'bad-offsets-v1.1.json');
    expect(set.skipped).toEqual([
      {
        id: 'fx-0',
        reason: expect.stringMatching(
          /^answers\[0\] "Denver Broncos" does not match the context at answer_start \d+ \("ver Broncos de"\)$/,
        ),
      },
      { id: 'fx-4', reason: 'answers[0].answer_start is missing; expected a character offset' },
    ]);
    // Still scored: the official script reads every question of the file.
    expect(set.gold.questions.map((q) => q.id)).toContain('fx-0');
    expect(set.examples.map((e) => e.id)).not.toContain('fx-0');
  });

  it('refuses a malformed file, naming the field', () => {
    expect(() => readSquadSet(fixture('malformed.json'), 'malformed.json')).toThrow(
      SquadFormatError,
    );
    expect(() => readSquadSet(fixture('malformed.json'), 'malformed.json')).toThrow(
      'malformed.json: data[0].paragraphs[0].qas[0].id is missing; expected a string',
    );
    expect(() => readSquadSet({ data: {} }, 'x.json')).toThrow(
      'x.json: data is an object; expected an array',
    );
  });

  it('maps every answer of the SQuAD-shaped fixture to tokens that decode back to it (bytes, WordPiece, byte-level BPE)', async () => {
    const set = readSquadSet(fixture('mini-v1.1.json'), 'mini-v1.1.json');
    for (const spec of ['bytes', WORDPIECE_TOKENIZER_FIXTURE, BYTELEVEL_TOKENIZER_FIXTURE]) {
      const tokenizer = await loadSpanTokenizer(spec);
      expect(answerProblems(set, tokenizer, SPEC)).toEqual({ problems: [], checked: 15 });
    }
  });

  it('maps every answer of the embedded set to bytes that decode back to it', async () => {
    const sotu = SQUAD_PRESETS['default']!.config.sotu;
    const files = await buildSotuQa(sotu);
    const tokenizer = await loadSpanTokenizer('bytes');
    const config = SQUAD_PRESETS['default']!.config;
    const spec: WindowSpec = {
      maxLength: config.maxLength,
      maxQuestion: config.maxQuestion,
      docStride: config.docStride,
      positions: 'document',
    };
    for (const [name, text] of Object.entries(files)) {
      const set = readSquadSet(JSON.parse(text), name);
      expect(set.skipped, name).toEqual([]);
      expect(set.examples.length).toBe(name === 'train' ? sotu.trainQuestions : sotu.devQuestions);
      expect(answerProblems(set, tokenizer, spec)).toEqual({
        problems: [],
        checked: set.examples.length,
      });
    }
  });

  it('the embedded set: spans are capitalised runs or numbers, not the first word; the same set every time', async () => {
    expect(
      entitySpans('The Senate of the United States met in 1812 with Mr Jay.').map((s) => s.text),
    ).toEqual(['Senate of the United States', '1812', 'Jay']);
    const small = { trainQuestions: 20, devQuestions: 5, maxContextChars: 300, questionWords: 3 };
    expect(await buildSotuQa(small)).toEqual(await buildSotuQa(small));
  });

  it('windows: starts a stride apart, the last ending at the context end; positions keep the offset or restart', async () => {
    expect(windowStarts(10, 4, 3)).toEqual([0, 3, 6]);
    expect(windowStarts(4, 4, 3)).toEqual([0]);
    expect(windowStarts(11, 4, 8)).toEqual([0, 4, 8]); // a stride longer than a window: no gap
    const tokenizer = await loadSpanTokenizer('bytes');
    const set = readSquadSet(fixture('mini-v1.1.json'), 'mini-v1.1.json');
    const long = set.examples.findIndex((e) => e.context.length > 200);
    const tokenized = tokenizeExample(set.examples[long]!, tokenizer);
    const doc = featuresOf(tokenized, long, tokenizer, SPEC);
    const win = featuresOf(tokenized, long, tokenizer, { ...SPEC, positions: 'window' });
    expect(doc.length).toBeGreaterThan(2);
    for (const [k, f] of doc.entries()) {
      expect(f.ids.length).toBeLessThanOrEqual(SPEC.maxLength);
      expect(f.ids[0]).toBe(tokenizer.cls);
      expect(f.ids[f.contextOffset - 1]).toBe(tokenizer.sep);
      expect(f.ids[f.ids.length - 1]).toBe(tokenizer.sep);
      expect(f.tokenTypes[f.contextOffset - 1]).toBe(0);
      expect(f.tokenTypes[f.contextOffset]).toBe(1);
      expect(f.positions[f.contextOffset]).toBe(f.contextOffset + f.windowStart);
      expect(win[k]!.positions).toEqual(f.ids.map((_, i) => i));
    }
    const last = doc[doc.length - 1]!;
    expect(last.windowStart + last.windowLength).toBe(tokenized.context.ids.length);
  });
});
