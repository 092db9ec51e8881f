/**
 * The answer normalisation of the official SQuAD evaluation scripts (v1.1 and v2.0 share it):
 * lowercase, drop ASCII punctuation, replace the articles a/an/the by a space, collapse
 * whitespace. Written to give Python 3's results on any string, which JavaScript's built-ins
 * do not by themselves: Python's `str.split()` splits on its own set of whitespace (the
 * separators U+001C–U+001F and U+0085 included, U+FEFF not), and `\b` of a Python 3 `re`
 * pattern is Unicode-aware where JavaScript's is ASCII-only.
 */

/** `string.punctuation`: the 32 ASCII punctuation characters. */
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/** The characters Python's `str.isspace()` accepts (Unicode White_Space plus bidi B/S/WS). */
const PYTHON_WHITESPACE =
  '\t\n\u000b\u000c\r\u001c\u001d\u001e\u001f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';
const WHITESPACE_RUN = new RegExp(`[${PYTHON_WHITESPACE}]+`, 'u');

/**
 * Python's `\b(a|an|the)\b` on a str: a word character is a letter, a number or `_`
 * (`str.isalnum()`), so combining marks end a word as they do in Python.
 */
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/** `text.split()` with no separator, as Python does it: no empty strings. */
export function pythonSplit(text: string): string[] {
  return text.split(WHITESPACE_RUN).filter((t) => t.length > 0);
}

export function normalizeAnswer(text: string): string {
  const lower = text.toLowerCase();
  let withoutPunctuation = '';
  for (const ch of lower) if (!PUNCTUATION.has(ch)) withoutPunctuation += ch;
  return pythonSplit(withoutPunctuation.replace(ARTICLES, ' ')).join(' ');
}
