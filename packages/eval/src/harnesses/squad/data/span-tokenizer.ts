/**
 * Tokens with the character span each covers in its text, which extractive QA needs twice: to
 * find the tokens of an answer given by character offsets, and to map a predicted token span
 * back to characters of the context. Bytes map exactly (every byte of a character covers that
 * character). A local tokenizer.json goes through transformers.js, which gives no offsets, so
 * the text is split on whitespace as BERT's SQuAD pipeline does and each word is tokenized
 * alone; its pieces are aligned to the word's characters (WordPiece's `##` and SentencePiece's
 * `▁` markers dropped, case and accents folded, byte-level BPE pieces decoded to bytes), and a
 * word whose pieces do not align (an unknown token) gives every piece the whole word.
 */
import { openHfTokenizer, type HfTokenizer } from '../../../tokenizer/hf-tokenizer.js';
import { UsageError } from '../../../usage-error.js';

export interface TokenizedText {
  ids: number[];
  /** Per token, the UTF-16 offsets [start, end) of the characters it covers. */
  starts: number[];
  ends: number[];
}

export interface SpanTokenizer {
  /** `bytes`, or the tokenizer.json's path. */
  readonly spec: string;
  readonly description: string;
  readonly vocabSize: number;
  /** The sequence's first token (BERT's [CLS]); its logits are the null answer. */
  readonly cls: number;
  /** Ends the question and the context (BERT's [SEP]). */
  readonly sep: number;
  /** Padding (masked out of attention). */
  readonly pad: number;
  tokenize(text: string): TokenizedText;
}

const utf8 = new TextEncoder();

/** UTF-8 bytes as ids 0…255, then [CLS] 256, [SEP] 257, [PAD] 258. */
export const byteSpanTokenizer: SpanTokenizer = {
  spec: 'bytes',
  description: 'UTF-8 bytes (256 ids) + [CLS], [SEP], [PAD]',
  vocabSize: 259,
  cls: 256,
  sep: 257,
  pad: 258,
  tokenize(text) {
    const { units, starts, ends } = bytesOf(text);
    return { ids: units as number[], starts, ends };
  },
};

/** GPT-2's byte ↔ printable-character table of byte-level BPE, inverted. */
function byteLevelDecoder(): Map<string, number> {
  const bytes: number[] = [];
  for (const [a, b] of [
    [0x21, 0x7e],
    [0xa1, 0xac],
    [0xae, 0xff],
  ] as const)
    for (let x = a; x <= b; x++) bytes.push(x);
  const chars = bytes.map((b) => String.fromCodePoint(b));
  let n = 0;
  for (let b = 0; b < 256; b++)
    if (!bytes.includes(b)) {
      bytes.push(b);
      chars.push(String.fromCodePoint(256 + n++));
    }
  return new Map(chars.map((c, i) => [c, bytes[i]!]));
}

/** Units of a text (bytes, folded characters), each with the [start, end) of its character. */
interface Units {
  units: (string | number)[];
  starts: number[];
  ends: number[];
}

function unitsOf(text: string, split: (ch: string) => Iterable<string | number>): Units {
  const out: Units = { units: [], starts: [], ends: [] };
  let i = 0;
  for (const ch of text) {
    for (const unit of split(ch)) {
      out.units.push(unit);
      out.starts.push(i);
      out.ends.push(i + ch.length);
    }
    i += ch.length;
  }
  return out;
}

const foldChar = (ch: string) => ch.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
const foldChars = (text: string) => unitsOf(text, foldChar);
const bytesOf = (text: string) => unitsOf(text, (ch) => utf8.encode(ch));

/**
 * Spans of `pieces` (already cleaned to units comparable with `word`'s) in the word, or
 * undefined when they do not spell it.
 */
function alignPieces(word: Units, pieces: (string | number)[][]): [number, number][] | undefined {
  const spans: [number, number][] = [];
  let at = 0;
  for (const piece of pieces) {
    if (piece.length === 0 || at + piece.length > word.units.length) return undefined;
    for (let j = 0; j < piece.length; j++) if (word.units[at + j] !== piece[j]) return undefined;
    spans.push([word.starts[at]!, word.ends[at + piece.length - 1]!]);
    at += piece.length;
  }
  return at === word.units.length ? spans : undefined;
}

type PieceCleaner = (piece: string, index: number) => (string | number)[];

function pieceCleaner(json: unknown): { clean: PieceCleaner; bytes: boolean } {
  const j = json as {
    model?: {
      type?: string;
      continuing_subword_prefix?: string | null;
      end_of_word_suffix?: string | null;
    };
    pre_tokenizer?: { type?: string; pretokenizers?: { type?: string }[] } | null;
  };
  const preTypes = [
    j.pre_tokenizer?.type,
    ...(j.pre_tokenizer?.pretokenizers ?? []).map((p) => p.type),
  ];
  if (preTypes.includes('ByteLevel')) {
    const decode = byteLevelDecoder();
    return {
      bytes: true,
      // A prefix space the pre-tokenizer adds is no byte of the word.
      clean: (piece, i) => {
        const bytes = [...piece].map((c) => decode.get(c) ?? -1);
        return i === 0 ? bytes.slice(bytes.findIndex((b) => b !== 0x20)) : bytes;
      },
    };
  }
  const prefix = j.model?.continuing_subword_prefix ?? (j.model?.type === 'WordPiece' ? '##' : '');
  const suffix = j.model?.end_of_word_suffix ?? '';
  return {
    bytes: false,
    clean: (piece, i) => {
      let p = piece;
      if (i > 0 && prefix && p.startsWith(prefix)) p = p.slice(prefix.length);
      if (suffix && p.endsWith(suffix)) p = p.slice(0, -suffix.length);
      p = p.replace(/^▁/, '');
      return [...foldChars(p).units];
    },
  };
}

function specialId(
  path: string,
  what: string,
  ...candidates: (number | null | undefined)[]
): number {
  const id = candidates.find((c): c is number => typeof c === 'number');
  if (id === undefined)
    throw new UsageError(
      `--tokenizer ${path}: it names no ${what} token (tried ${what === 'separator' ? 'sep, eos' : what === 'start' ? 'cls, bos, eos' : 'pad, eos'})`,
    );
  return id;
}

/** The id of a special token tokenizer_config.json names (`"cls_token": "[CLS]"` or `{content}`). */
function configuredId(t: HfTokenizer, config: unknown, key: string): number | undefined {
  const v = (config as Record<string, unknown> | null)?.[key];
  const token = typeof v === 'string' ? v : (v as { content?: unknown } | undefined)?.content;
  return typeof token === 'string' ? t.get_vocab().get(token) : undefined;
}

export async function loadHfSpanTokenizer(path: string): Promise<SpanTokenizer> {
  const { file, tokenizer: t, json, config, vocabSize } = await openHfTokenizer(path);
  const cls = specialId(
    path,
    'start',
    configuredId(t, config, 'cls_token'),
    t.bos_token_id,
    t.eos_token_id,
  );
  const sep = specialId(path, 'separator', t.sep_token_id, t.eos_token_id);
  const pad = specialId(path, 'padding', t.pad_token_id, t.eos_token_id);
  const { clean, bytes } = pieceCleaner(json);
  return {
    spec: file,
    description: `${file} (${vocabSize} ids; words split on whitespace, each tokenized alone)`,
    vocabSize: Math.max(vocabSize, cls + 1, sep + 1, pad + 1),
    cls,
    sep,
    pad,
    tokenize(text) {
      const out: TokenizedText = { ids: [], starts: [], ends: [] };
      for (const m of text.matchAll(/\S+/gu)) {
        const word = m[0];
        const pieces = t.tokenize(word);
        if (pieces.length === 0) continue;
        const ids = t.convert_tokens_to_ids(pieces);
        const folded = bytes ? bytesOf(word) : foldChars(word);
        const spans =
          alignPieces(folded, pieces.map(clean)) ??
          pieces.map((): [number, number] => [0, word.length]);
        ids.forEach((id, k) => {
          out.ids.push(id);
          out.starts.push(m.index + spans[k]![0]);
          out.ends.push(m.index + spans[k]![1]);
        });
      }
      return out;
    },
  };
}

const loaded = new Map<string, Promise<SpanTokenizer>>();

/** `bytes` or a tokenizer.json (absolute path); loaded once per process. */
export function loadSpanTokenizer(spec: string): Promise<SpanTokenizer> {
  if (spec === 'bytes') return Promise.resolve(byteSpanTokenizer);
  let t = loaded.get(spec);
  if (!t) {
    t = loadHfSpanTokenizer(spec);
    loaded.set(spec, t);
    t.catch(() => loaded.delete(spec));
  }
  return t;
}
