/**
 * A split as one token stream: the end-of-line token, then every unit followed by it. The leading
 * end of line is context only, so every token of the split, the first included, is a prediction
 * target: a stream of T+1 tokens has T targets.
 */
import { countWords, type CorpusSplit } from '../../../corpus/corpus.js';
import type { Tokenizer } from '../../../tokenizer/tokenizer.js';
import { TokenArrayBuilder, type TokenArray } from './token-array.js';

export interface TokenStream {
  /** `[endOfLine, unit₀…, endOfLine, unit₁…, endOfLine, …]` */
  readonly tokens: TokenArray;
  readonly units: number;
  /** For word-level text: words plus one end of line per unit (the WikiText perplexity denominator). */
  readonly words?: number;
}

export async function tokenizeSplit(
  split: CorpusSplit,
  tokenizer: Tokenizer,
): Promise<TokenStream> {
  const builder = new TokenArrayBuilder(tokenizer.vocabSize);
  const endOfLine = [tokenizer.endOfLine];
  builder.push(endOfLine);
  let units = 0;
  let words = 0;
  for await (const unit of split.units()) {
    builder.push(tokenizer.encode(unit));
    builder.push(endOfLine);
    units++;
    if (split.wordLevel) words += countWords(unit) + 1;
  }
  return { tokens: builder.build(), units, ...(split.wordLevel && { words }) };
}
