import type { TokenIds } from '@posenc/core';

/**
 * Token ids in the narrowest typed array their vocabulary fits: a byte-level WikiText-103 is 540 M
 * tokens, 0.5 GB as bytes and 2 GB as int32.
 */
export type TokenArray = TokenIds;

export function allocateTokens(vocabSize: number, length: number): TokenArray {
  if (vocabSize <= 0x100) return new Uint8Array(length);
  if (vocabSize <= 0x10000) return new Uint16Array(length);
  return new Int32Array(length);
}

/** Appends ids to a growing typed array (doubling), checking each id against the vocabulary. */
export class TokenArrayBuilder {
  private buffer: TokenArray;
  private size = 0;

  constructor(private readonly vocabSize: number) {
    this.buffer = allocateTokens(vocabSize, 1024);
  }

  get length(): number {
    return this.size;
  }

  push(ids: ArrayLike<number>): void {
    this.reserve(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!(id >= 0 && id < this.vocabSize && Number.isInteger(id)))
        throw new Error(`token id ${id} is outside the vocabulary of ${this.vocabSize} ids`);
      this.buffer[this.size++] = id;
    }
  }

  /** The ids pushed so far, in an array of exactly that length. */
  build(): TokenArray {
    return this.buffer.slice(0, this.size);
  }

  private reserve(extra: number): void {
    if (this.size + extra <= this.buffer.length) return;
    let capacity = this.buffer.length;
    while (capacity < this.size + extra) capacity *= 2;
    const next = allocateTokens(this.vocabSize, capacity);
    next.set(this.buffer.subarray(0, this.size));
    this.buffer = next;
  }
}
