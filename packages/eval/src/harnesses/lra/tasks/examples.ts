/** What every LRA task's data comes to: token ids (0 = padding) and class labels per split. */

export interface LraExample {
  /** Token ids ≥ 1 (0 pads); one sequence, or one per tower (Retrieval). */
  readonly tokens: Int32Array;
  /** Retrieval's second document. */
  readonly second?: Int32Array;
  readonly label: number;
}

export interface LraSplits {
  readonly train: readonly LraExample[];
  readonly test: readonly LraExample[];
  /** Where the data came from, for the report. */
  readonly source: string;
}

/** Bytes as ids 1–256 (0 is padding), at most `maxLength` of them: LRA's byte-level tasks. */
export function byteTokens(bytes: Uint8Array, maxLength: number): Int32Array {
  const n = Math.min(bytes.length, maxLength);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = bytes[i]! + 1;
  return out;
}

/** The most frequent label's share of `examples` (what a model without input scores). */
export function majorityAccuracy(examples: readonly LraExample[]): number {
  const counts = new Map<number, number>();
  for (const e of examples) counts.set(e.label, (counts.get(e.label) ?? 0) + 1);
  return Math.max(...counts.values()) / examples.length;
}
