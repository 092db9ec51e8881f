/**
 * What a training checkpoint holds and how the trainer reaches the storage that keeps it. The
 * files themselves are written by `./checkpoint.ts` (Node only), which hands itself to the
 * trainer on import; this module works in any runtime, so the trainer does too (a browser run
 * has no `checkpointDir`).
 */
import type { tf } from '../engine/tf.js';
import type { AdamW } from './adamw.js';

export const TRAINER_FORMAT = 'posenc-trainer/1';

type Parameters = Readonly<Record<string, tf.Variable>>;

/** Contents of trainer.json. */
export interface TrainerRecord {
  format: typeof TRAINER_FORMAT;
  /** Optimizer updates completed; the next step to run. */
  step: number;
  seed: number;
  /** The validated trainer options (numbers, strings and the optimizer and schedule configs). */
  config: Record<string, unknown>;
  /** `lossHistory[s]` is the mean loss of step `s`, for every step before `step`. */
  lossHistory: number[];
}

export interface CheckpointPointer {
  step: number;
  folder: string;
}

/**
 * A checkpoint file that exists but cannot be read as what it should be (truncated, not JSON, a
 * broken safetensors header, steps that disagree): the state of a crashed disk or a hand edit,
 * as opposed to a checkpoint that does not fit the model.
 */
export class CorruptCheckpointError extends Error {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`${path} ${problem}`);
    this.name = 'CorruptCheckpointError';
  }
}

export interface SaveCheckpointOptions {
  parameters: Parameters;
  optimizer: AdamW;
  record: TrainerRecord;
  /** How many step folders to keep, the new one included. */
  keep: number;
}

export interface LoadCheckpointOptions {
  /** Called with trainer.json before anything is loaded; throw to refuse the checkpoint. */
  checkRecord?: (record: TrainerRecord, path: string) => void;
  /**
   * Told about each corrupt checkpoint passed over on the way to the newest intact one (a line
   * naming the file and the problem). Without it a corrupt checkpoint is an error.
   */
  onCorrupt?: (line: string) => void;
}

/** The checkpoint operations the trainer needs, on a checkpoint directory. */
export interface CheckpointStorage {
  readPointer(dir: string): Promise<CheckpointPointer | undefined>;
  save(dir: string, options: SaveCheckpointOptions): Promise<string>;
  load(
    dir: string,
    parameters: Parameters,
    optimizer: AdamW,
    options: LoadCheckpointOptions,
  ): Promise<{ record: TrainerRecord; path: string } | undefined>;
}

let storage: CheckpointStorage | undefined;

/** Called once by the checkpoint files module; not part of the public API. */
export function provideCheckpointStorage(provided: CheckpointStorage): void {
  storage = provided;
}

export function checkpointStorage(): CheckpointStorage {
  if (!storage)
    throw new Error(
      'checkpointDir needs file access, which only the Node entry of @posenc/core has; in a browser, train without checkpointDir and keep weights with weightsToSafetensors',
    );
  return storage;
}
