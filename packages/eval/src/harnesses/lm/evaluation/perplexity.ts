/**
 * Perplexity per token: exp of the mean negative log-likelihood (nats) over every scored target,
 * summed in float64 on the host. Windows of equal length are batched; the scorer gets the window
 * tokens and returns the NLL of every target, so a test can hand it a toy model.
 */
import type { TokenArray } from '../data/token-array.js';
import { windowsFor, type EvalMode, type EvalWindow } from './windows.js';

/** NLL in nats of each target, row-major `[batch, length]`, for windows starting at position 0. */
export type WindowScorer = (window: WindowBatch) => Promise<Float32Array>;

export interface WindowBatch {
  /** `[batch, length]` int32 */
  inputs: Int32Array;
  targets: Int32Array;
  batch: number;
  length: number;
}

export interface PerplexitySpec {
  mode: EvalMode;
  length: number;
  /** Sliding mode only. */
  stride: number;
  /** Upper bound on batch × length per scorer call (memory). */
  maxBatchTokens: number;
}

export interface PerplexityResult {
  mode: EvalMode;
  length: number;
  stride?: number;
  /** Scored targets. */
  tokens: number;
  /** Sum of NLL, nats. */
  nll: number;
  /** nll / tokens */
  meanNll: number;
  /** exp(meanNll) */
  perplexity: number;
  wallMs: number;
}

export function perplexityResult(
  spec: Pick<PerplexitySpec, 'mode' | 'length' | 'stride'>,
  nll: number,
  tokens: number,
  wallMs: number,
): PerplexityResult {
  const meanNll = nll / tokens;
  return {
    mode: spec.mode,
    length: spec.length,
    ...(spec.mode === 'sliding' && { stride: spec.stride }),
    tokens,
    nll,
    meanNll,
    perplexity: Math.exp(meanNll),
    wallMs,
  };
}

interface PlacedWindow extends EvalWindow {
  segment: number;
}

export async function evaluatePerplexity(
  segments: readonly TokenArray[],
  spec: PerplexitySpec,
  scorer: WindowScorer,
): Promise<PerplexityResult> {
  const started = performance.now();
  const byLength = new Map<number, PlacedWindow[]>();
  segments.forEach((segment, index) => {
    for (const w of windowsFor(spec.mode, segment.length - 1, spec.length, spec.stride)) {
      const group = byLength.get(w.length) ?? [];
      group.push({ ...w, segment: index });
      byLength.set(w.length, group);
    }
  });
  let nll = 0;
  let tokens = 0;
  for (const [length, windows] of byLength) {
    const perBatch = Math.max(1, Math.floor(spec.maxBatchTokens / length));
    for (let first = 0; first < windows.length; first += perBatch) {
      const group = windows.slice(first, first + perBatch);
      const inputs = new Int32Array(group.length * length);
      const targets = new Int32Array(group.length * length);
      group.forEach((w, b) => {
        const segment = segments[w.segment]!;
        inputs.set(segment.subarray(w.start, w.start + length), b * length);
        targets.set(segment.subarray(w.start + 1, w.start + 1 + length), b * length);
      });
      const scores = await scorer({ inputs, targets, batch: group.length, length });
      if (scores.length !== group.length * length)
        throw new Error(
          `scorer returned ${scores.length} values for a [${group.length}, ${length}] batch`,
        );
      group.forEach((w, b) => {
        for (let i = w.scoreFrom; i < length; i++) nll += scores[b * length + i]!;
        tokens += length - w.scoreFrom;
      });
    }
  }
  return perplexityResult(spec, nll, tokens, performance.now() - started);
}
