/**
 * The windows a perplexity evaluation runs, over a segment of T targets (T+1 tokens, the first
 * context only). A window covers inputs `tokens[start … start+length)`, predicts
 * `tokens[start+1 … start+length]`, and scores its targets from index `scoreFrom` on. In both
 * modes every target of the segment is scored exactly once.
 *
 * - nonoverlapping: consecutive blocks of L; a target's context is 1…L tokens (Press et al.
 *   2021's "early token curse").
 * - sliding with stride S: the first window scores all of its L targets, each later one advances
 *   by S and scores only its last S, so every later target sees at least L − S tokens of context
 *   (Shortformer §2; Hugging Face's "Perplexity of fixed-length models"). S = L is nonoverlapping.
 */
export type EvalMode = 'nonoverlapping' | 'sliding';
export const EVAL_MODES: readonly EvalMode[] = ['nonoverlapping', 'sliding'];

export interface EvalWindow {
  start: number;
  length: number;
  scoreFrom: number;
}

export function nonoverlappingWindows(targets: number, length: number): EvalWindow[] {
  assertPositiveInt('length', length);
  const windows: EvalWindow[] = [];
  for (let start = 0; start < targets; start += length)
    windows.push({ start, length: Math.min(length, targets - start), scoreFrom: 0 });
  return windows;
}

export function slidingWindows(targets: number, length: number, stride: number): EvalWindow[] {
  assertPositiveInt('length', length);
  assertPositiveInt('stride', stride);
  if (stride > length)
    throw new Error(`sliding window: stride ${stride} is longer than the window ${length}`);
  if (targets <= 0) return [];
  const first = Math.min(length, targets);
  const windows: EvalWindow[] = [{ start: 0, length: first, scoreFrom: 0 }];
  for (let end = first; end < targets;) {
    const newEnd = Math.min(end + stride, targets);
    const start = Math.max(0, newEnd - length);
    windows.push({ start, length: newEnd - start, scoreFrom: end - start });
    end = newEnd;
  }
  return windows;
}

/** Stride for an evaluation length and a ratio in (0, 1]: at least 1, at most the length. */
export function strideFor(length: number, ratio: number): number {
  return Math.min(length, Math.max(1, Math.round(length * ratio)));
}

export function windowsFor(
  mode: EvalMode,
  targets: number,
  length: number,
  stride: number,
): EvalWindow[] {
  return mode === 'nonoverlapping'
    ? nonoverlappingWindows(targets, length)
    : slidingWindows(targets, length, stride);
}

function assertPositiveInt(field: string, v: number): void {
  if (!Number.isInteger(v) || v < 1)
    throw new Error(`evaluation windows: ${field} = ${v} is not allowed; expected an integer ≥ 1`);
}
