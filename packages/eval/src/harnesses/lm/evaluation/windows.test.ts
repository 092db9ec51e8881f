/** Evaluation windows: every target scored exactly once, with the context each mode promises. */
import { describe, expect, it } from 'vitest';
import { nonoverlappingWindows, slidingWindows, strideFor, type EvalWindow } from './windows.js';

/** For each target t (0-based), how many tokens of context it had and how often it was scored. */
function coverage(targets: number, windows: EvalWindow[]): { scored: number[]; context: number[] } {
  const scored = new Array<number>(targets).fill(0);
  const context = new Array<number>(targets).fill(-1);
  for (const w of windows) {
    expect(w.start).toBeGreaterThanOrEqual(0);
    expect(w.start + w.length).toBeLessThanOrEqual(targets);
    for (let i = w.scoreFrom; i < w.length; i++) {
      scored[w.start + i]!++;
      context[w.start + i] = i + 1; // inputs start … start+i predict target start+i
    }
  }
  return { scored, context };
}

describe('nonoverlapping windows', () => {
  it('cut the targets into blocks of L, the last one shorter', () => {
    expect(nonoverlappingWindows(10, 4)).toEqual([
      { start: 0, length: 4, scoreFrom: 0 },
      { start: 4, length: 4, scoreFrom: 0 },
      { start: 8, length: 2, scoreFrom: 0 },
    ]);
  });

  it('score every target once with 1…L tokens of context', () => {
    for (const [targets, length] of [
      [100, 7],
      [64, 64],
      [5, 16],
      [129, 32],
    ] as const) {
      const { scored, context } = coverage(targets, nonoverlappingWindows(targets, length));
      expect(scored.every((n) => n === 1)).toBe(true);
      expect(Math.min(...context)).toBe(1);
      expect(Math.max(...context)).toBe(Math.min(length, targets));
    }
  });
});

describe('sliding windows', () => {
  it('advance by the stride and score only the new targets', () => {
    expect(slidingWindows(10, 4, 2)).toEqual([
      { start: 0, length: 4, scoreFrom: 0 },
      { start: 2, length: 4, scoreFrom: 2 },
      { start: 4, length: 4, scoreFrom: 2 },
      { start: 6, length: 4, scoreFrom: 2 },
    ]);
    // The stride does not land on the end: the last window ends there and scores what is left.
    expect(slidingWindows(9, 4, 3)).toEqual([
      { start: 0, length: 4, scoreFrom: 0 },
      { start: 3, length: 4, scoreFrom: 1 },
      { start: 5, length: 4, scoreFrom: 2 },
    ]);
  });

  it('score every target once, each after the first window with at least L − S tokens of context', () => {
    for (const [targets, length, stride] of [
      [100, 8, 4],
      [100, 8, 1],
      [37, 16, 5],
      [10, 32, 16],
      [64, 16, 16],
    ] as const) {
      const { scored, context } = coverage(targets, slidingWindows(targets, length, stride));
      expect(scored.every((n) => n === 1)).toBe(true);
      context
        .slice(Math.min(length, targets))
        .forEach((c) => expect(c).toBeGreaterThan(length - stride));
    }
  });

  it('with the stride equal to the length are the nonoverlapping windows, but for a last window that keeps L tokens', () => {
    expect(slidingWindows(48, 8, 8)).toEqual(nonoverlappingWindows(48, 8));
    expect(slidingWindows(50, 8, 8).slice(0, -1)).toEqual(
      nonoverlappingWindows(50, 8).slice(0, -1),
    );
    expect(slidingWindows(50, 8, 8).at(-1)).toEqual({ start: 42, length: 8, scoreFrom: 6 });
  });

  it('reject a stride longer than the window and lengths below 1', () => {
    expect(() => slidingWindows(10, 4, 5)).toThrow(/stride 5 is longer than the window 4/);
    expect(() => slidingWindows(10, 0, 1)).toThrow(/length = 0/);
    expect(() => nonoverlappingWindows(10, 1.5)).toThrow(/length = 1.5/);
  });

  it('get a stride of at least one token from the ratio', () => {
    expect(strideFor(64, 0.5)).toBe(32);
    expect(strideFor(3, 0.1)).toBe(1);
    expect(strideFor(10, 1)).toBe(10);
  });
});
