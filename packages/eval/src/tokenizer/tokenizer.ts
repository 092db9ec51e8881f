/** What the benchmark needs from a tokenizer. */
export interface Tokenizer {
  /** `bytes`, or the path of the tokenizer.json. */
  readonly spec: string;
  readonly description: string;
  /** Number of token ids; the model's vocabulary. */
  readonly vocabSize: number;
  /**
   * Token appended after every unit (document or line) of a corpus and put before the first one:
   * the end of line of WikiText's protocol. The newline byte for `bytes`; the tokenizer's
   * end-of-sequence token for a tokenizer.json.
   */
  readonly endOfLine: number;
  /** Ids of a text, without special tokens. */
  encode(text: string): ArrayLike<number>;
}
