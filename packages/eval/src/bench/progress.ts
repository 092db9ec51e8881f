/** What a run reports while it goes; the CLI draws it as a bar on a terminal, as lines otherwise. */
import type { ProgressEvent } from '@posenc/core';
import type { PerplexityResult } from '../lm/perplexity.js';

export interface BenchProgress {
  runStarted(info: { folder: string; methods: string[]; engine: string }): void;
  methodSkipped(method: string, why: string): void;
  methodStarted(method: string, index: number, total: number, resumedFrom?: number): void;
  trainStep(method: string, event: ProgressEvent): void;
  evaluated(method: string, result: PerplexityResult): void;
  methodFinished(method: string, summary: string): void;
  methodFailed(method: string, error: string): void;
  note(line: string): void;
}

export const silentProgress: BenchProgress = {
  runStarted: () => {},
  methodSkipped: () => {},
  methodStarted: () => {},
  trainStep: () => {},
  evaluated: () => {},
  methodFinished: () => {},
  methodFailed: () => {},
  note: () => {},
};
