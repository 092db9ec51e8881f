/** Byte-level tokens: UTF-8 bytes as ids 0…255, newline (10) as the end of line. */
import type { Tokenizer } from './tokenizer.js';

const encoder = new TextEncoder();

export const byteTokenizer: Tokenizer = {
  spec: 'bytes',
  description: 'UTF-8 bytes (256 ids; end of line = newline byte)',
  vocabSize: 256,
  endOfLine: 10,
  encode: (text) => encoder.encode(text),
};
