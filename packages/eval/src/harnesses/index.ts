/**
 * The tasks `posenc bench <task>` runs. A harness is one folder under `harnesses/`; adding a
 * task is its folder and one entry here.
 */
import type { AnyHarness } from '../run/harness.js';
import { lmHarness } from './lm/harness.js';
import { squadHarness } from './squad/harness.js';

export const HARNESSES: readonly AnyHarness[] = [lmHarness, squadHarness];

export function findHarness(task: string): AnyHarness | undefined {
  return HARNESSES.find((h) => h.task === task);
}
