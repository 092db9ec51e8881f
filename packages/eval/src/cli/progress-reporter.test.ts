/** Progress: a bar redrawn in place on a terminal, plain lines at every tenth of training otherwise. */
import type { ProgressEvent } from '@posenc/core';
import { describe, expect, it } from 'vitest';
import { CapturedStream } from '../testing/capture.js';
import { createProgressReporter, formatDuration } from './progress-reporter.js';

const event = (step: number): ProgressEvent => ({
  step,
  totalSteps: 20,
  loss: 2.5 - step / 100,
  lr: 1e-3,
  gradNorm: 1,
  tokens: 512,
  tokensPerSecond: 2048.4,
  elapsedMs: (step + 1) * 250,
  etaMs: (19 - step) * 250,
});

describe('progress reporter', () => {
  it('prints a plain line every tenth of the steps when not on a terminal', () => {
    const stream = new CapturedStream();
    const progress = createProgressReporter(stream);
    progress.cellStarted('alibi', 1, 3);
    for (let s = 0; s < 20; s++) progress.trainStep('alibi', event(s));
    const lines = stream.text.trim().split('\n');
    expect(lines[0]).toBe('[2/3] alibi');
    expect(lines).toHaveLength(1 + 10);
    expect(lines[1]).toBe('alibi  step 2/20  loss 2.490  2048 tok/s  ETA 0:05');
    expect(lines.at(-1)).toBe('alibi  step 20/20  loss 2.310  2048 tok/s  ETA 0:00');
    expect(stream.text).not.toContain('\r');
  });

  it('redraws one bar line on a terminal: method, step, loss, tokens/s, ETA', () => {
    const stream = new CapturedStream();
    stream.isTTY = true;
    const progress = createProgressReporter(stream);
    progress.cellStarted('rope', 0, 2, 40);
    progress.trainStep('rope', event(9));
    expect(stream.text).toContain('[1/2] rope: resuming from step 40\n');
    const bar = stream.text.split('\r\x1b[2K').at(-1)!;
    expect(bar).toBe('[1/2] rope ██████████░░░░░░░░░░ 10/20  loss 2.410  2048 tok/s  ETA 0:03');
    progress.cellFinished('rope', 'final loss 2.3');
    expect(stream.text.endsWith('\r\x1b[2K[1/2] rope: done — final loss 2.3\n')).toBe(true);
  });

  it('formats durations as m:ss or h:mm:ss', () => {
    expect(formatDuration(61_000)).toBe('1:01');
    expect(formatDuration(3_725_000)).toBe('1:02:05');
    expect(formatDuration(Number.NaN)).toBe('?');
  });
});
