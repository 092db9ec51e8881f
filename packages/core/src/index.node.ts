/**
 * @posenc/core in Node: everything of the runtime-neutral entry (`./index.ts`) plus file and
 * directory I/O — safetensors files, training checkpoints, the State of the Union texts.
 * Importing it also lets `readSafetensors`, `loadWeights` and the trainer's `checkpointDir` reach
 * the file system. Selected by the `node` export condition, so Node users import `@posenc/core`.
 */
export * from './index.js';
export {
  readSafetensorsFile,
  readSafetensorsHeader,
  writeSafetensorsFile,
} from './io/safetensors-files.js';
export {
  loadCheckpoint,
  readCheckpointPointer,
  saveCheckpoint,
  saveWeights,
  stepFolderName,
  OPTIMIZER_FILE,
  POINTER_FILE,
  TRAINER_FILE,
  WEIGHTS_FILE,
} from './training/checkpoint.js';
export { sotuAddresses, sotuText } from './data/sotu.js';
