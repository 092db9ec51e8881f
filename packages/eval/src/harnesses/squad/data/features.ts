/**
 * Examples → model inputs as BERT's SQuAD pipeline builds them: `[CLS] question [SEP] context
 * window [SEP]`, the question cut to its first `maxQuestion` tokens, a context longer than the
 * room left split into windows whose starts are `docStride` tokens apart (the last window ends at
 * the context's end), the answer's token span mapped into each window, or to [CLS] (the null
 * answer) when the window does not hold all of it or the question has none.
 *
 * Positions: `document` gives a context token the position it has in the whole context (after the
 * question), so a window keeps its offset and an absolute method sees where it sits; `window`
 * numbers every window 0…N−1 (BERT's inputs).
 */
import type { SquadExample } from './squad-file.js';
import type { SpanTokenizer, TokenizedText } from './span-tokenizer.js';

export type WindowPositions = 'document' | 'window';

export interface WindowSpec {
  /** Tokens per input, specials included. */
  maxLength: number;
  maxQuestion: number;
  /** Tokens between the starts of consecutive windows of one context. */
  docStride: number;
  positions: WindowPositions;
}

export interface TokenizedExample {
  question: number[];
  context: TokenizedText;
  /** Token indices [start, end] (inclusive) of the first answer in the context, if any. */
  answer?: [number, number];
}

export interface Feature {
  /** Index of the example in its set. */
  example: number;
  ids: number[];
  tokenTypes: number[];
  positions: number[];
  /** Index in `ids` of the first context token. */
  contextOffset: number;
  /** The context token at `contextOffset`, and how many follow it in this window. */
  windowStart: number;
  windowLength: number;
  /** Answer span in `ids`, [CLS] (0, 0) when the window holds no answer. */
  start: number;
  end: number;
}

/**
 * The tokens [first, last] that cover characters [start, start + length) of a tokenized text:
 * the first token ending after `start` and the last one starting before the end.
 */
export function tokenSpanOf(
  text: TokenizedText,
  start: number,
  length: number,
): [number, number] | undefined {
  const end = start + length;
  let first = -1;
  let last = -1;
  for (let i = 0; i < text.ids.length; i++) {
    if (first < 0 && text.ends[i]! > start) first = i;
    if (text.starts[i]! < end) last = i;
  }
  return first >= 0 && last >= first ? [first, last] : undefined;
}

export function tokenizeExample(example: SquadExample, tokenizer: SpanTokenizer): TokenizedExample {
  const context = tokenizer.tokenize(example.context);
  const first = example.answers[0];
  const answer = first && tokenSpanOf(context, first.start, first.text.length);
  return {
    question: tokenizer.tokenize(example.question).ids,
    context,
    ...(answer && { answer }),
  };
}

/** Starts of the windows over `length` context tokens, each `room` long at most. */
export function windowStarts(length: number, room: number, stride: number): number[] {
  const starts: number[] = [];
  for (let s = 0; ; s += Math.min(room, stride)) {
    starts.push(s);
    if (s + room >= length) return starts;
  }
}

export function featuresOf(
  tokenized: TokenizedExample,
  example: number,
  tokenizer: SpanTokenizer,
  spec: WindowSpec,
): Feature[] {
  const question = tokenized.question.slice(0, spec.maxQuestion);
  const contextOffset = question.length + 2;
  const room = spec.maxLength - contextOffset - 1;
  if (room < 1)
    throw new Error(
      `max length ${spec.maxLength} leaves no room for context after a question of ${question.length} tokens`,
    );
  const n = tokenized.context.ids.length;
  return windowStarts(n, room, spec.docStride).map((windowStart) => {
    const windowLength = Math.min(room, n - windowStart);
    const context = tokenized.context.ids.slice(windowStart, windowStart + windowLength);
    const ids = [tokenizer.cls, ...question, tokenizer.sep, ...context, tokenizer.sep];
    const tokenTypes = ids.map((_, i) => (i < contextOffset ? 0 : 1));
    const shift = spec.positions === 'document' ? windowStart : 0;
    const positions = ids.map((_, i) => (i < contextOffset ? i : i + shift));
    const a = tokenized.answer;
    const inside = a && a[0] >= windowStart && a[1] < windowStart + windowLength;
    return {
      example,
      ids,
      tokenTypes,
      positions,
      contextOffset,
      windowStart,
      windowLength,
      start: inside ? contextOffset + a[0] - windowStart : 0,
      end: inside ? contextOffset + a[1] - windowStart : 0,
    };
  });
}
