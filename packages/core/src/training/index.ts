export {
  AdamW,
  ADAMW_UPDATE_KERNEL,
  DEFAULT_NO_DECAY_PATTERNS,
  parseAdamWConfig,
  type AdamWConfig,
  type AdamWUpdateAttrs,
  type AdamWOptions,
  type OptimizerState,
} from './adamw.js';
export {
  CorruptCheckpointError,
  TRAINER_FORMAT,
  type CheckpointPointer,
  type CheckpointStorage,
  type LoadCheckpointOptions,
  type SaveCheckpointOptions,
  type TrainerRecord,
} from './checkpoint-record.js';
export {
  loadWeights,
  weightsToSafetensors,
  type LoadedWeights,
  type LoadWeightsOptions,
} from './weights.js';
export { clipByGlobalNorm, globalNorm, type Gradients } from './clip.js';
export {
  learningRateAt,
  learningRateMultiplier,
  parseSchedule,
  SCHEDULE_KINDS,
  SCHEDULE_SCHEMA,
  type ScheduleConfig,
  type ScheduleKind,
  type ScheduleOptions,
} from './schedule.js';
export {
  NonFiniteError,
  stepSeed,
  train,
  Trainer,
  type ProgressEvent,
  type StepContext,
  type TrainBatch,
  type TrainerConfig,
  type TrainOptions,
  type TrainResult,
} from './trainer.js';
