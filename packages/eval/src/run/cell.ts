/**
 * The unit of work: one cell = (task, method, seed) of a run. A cell is plain JSON that carries
 * everything a process needs to run it alone — the run's resolved config and its hash, the method
 * row's name, the seed and the checkpoint interval — so it can be run in-process, one after
 * another, or handed to a worker on another machine; nothing in it refers to the memory of the
 * process that made it.
 */
export interface Cell<C = unknown> {
  readonly task: string;
  /** Name of the run folder (`lm-sotu-bytes-L64-<hash>`, or the basename of --out). */
  readonly run: string;
  readonly configHash: string;
  readonly config: C;
  readonly method: string;
  readonly seed: number;
  readonly checkpointEvery: number;
}

/** `rope/seed-0`: the cell's folder under `cells/` and its name in progress lines. */
export function cellPath(cell: Pick<Cell, 'method' | 'seed'>): string {
  return `${cell.method}/seed-${cell.seed}`;
}

/** Unique across runs: what a queue uses as the job id, so enqueueing a cell twice adds nothing. */
export function cellKey(cell: Pick<Cell, 'task' | 'configHash' | 'method' | 'seed'>): string {
  return `${cell.task}-${cell.configHash}-${cell.method}-seed${cell.seed}`;
}

/** Method names become folder names: letters, digits and `_ . + -` only. */
export const METHOD_NAME = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;
