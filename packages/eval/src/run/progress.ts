/**
 * What a run reports while it goes; the CLI draws it as a bar on a terminal, as lines otherwise.
 * A cell is named by its label: the method, and the seed when the run has more than one.
 */
import type { ProgressEvent } from '@posenc/core';

export interface RunProgress {
  runStarted(info: {
    task: string;
    folder: string;
    methods: string[];
    seeds: number[];
    cells: number;
    engine: string;
  }): void;
  cellSkipped(cell: string, why: string): void;
  cellStarted(cell: string, index: number, total: number, resumedFrom?: number): void;
  trainStep(cell: string, event: ProgressEvent): void;
  /** One finished part of a cell's evaluation. */
  evaluated(cell: string, line: string): void;
  cellFinished(cell: string, summary: string): void;
  cellFailed(cell: string, error: string): void;
  note(line: string): void;
}

export const silentProgress: RunProgress = {
  runStarted: () => {},
  cellSkipped: () => {},
  cellStarted: () => {},
  trainStep: () => {},
  evaluated: () => {},
  cellFinished: () => {},
  cellFailed: () => {},
  note: () => {},
};
