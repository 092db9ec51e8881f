/**
 * Learning-rate schedules as pure functions of the step, so a resumed run gets exactly the
 * rate the uninterrupted run would have used.
 *
 * `step` is 0-based: the number of optimizer updates already made before this one.
 * - Warmup (all kinds): for `step < warmupSteps` the multiplier is `(step + 1) / warmupSteps`,
 *   so the first update already moves (a multiplier of 0 would waste it) and the last warmup
 *   step reaches 1.
 * - After warmup, with `progress = clamp((step − warmupSteps) / (totalSteps − warmupSteps), 0, 1)`:
 *   - `constant`: 1;
 *   - `linear`:   `minLrRatio + (1 − minLrRatio)·(1 − progress)`;
 *   - `cosine`:   `minLrRatio + (1 − minLrRatio)·½(1 + cos(π·progress))`.
 *   Both decays start at 1 right after warmup and stay at `minLrRatio` from `totalSteps` on.
 */
import { ConfigError, parseConfig, type ConfigOf, type Schema } from '../config/schema.js';

export const SCHEDULE_KINDS = ['cosine', 'linear', 'constant'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

export const SCHEDULE_SCHEMA = {
  kind: {
    type: 'enum',
    values: SCHEDULE_KINDS,
    default: 'constant',
    doc: 'shape of the decay after warmup',
  },
  warmupSteps: { type: 'number', integer: true, min: 0, default: 0, doc: 'steps of linear warmup' },
  minLrRatio: {
    type: 'number',
    min: 0,
    max: 1,
    default: 0,
    doc: 'final rate as a fraction of the base rate',
  },
  totalSteps: {
    type: 'number',
    integer: true,
    min: 1,
    optional: true,
    doc: 'step at which the decay reaches minLrRatio; the trainer fills in its step count',
  },
} as const satisfies Schema;

/** A validated schedule; `kind` decides which of the other fields matter. */
export type ScheduleConfig = ConfigOf<typeof SCHEDULE_SCHEMA>;
/** What users write: every field may be left to its default. */
export type ScheduleOptions = Partial<ScheduleConfig>;

export function parseSchedule(options: ScheduleOptions, owner = 'schedule'): ScheduleConfig {
  const schedule = parseConfig(owner, SCHEDULE_SCHEMA, { ...options });
  if (schedule.kind !== 'constant' && schedule.totalSteps === undefined)
    throw new ConfigError(
      owner,
      'totalSteps',
      undefined,
      `required for kind '${schedule.kind}': an integer ≥ 1`,
    );
  if (schedule.totalSteps !== undefined && schedule.warmupSteps > schedule.totalSteps)
    throw new ConfigError(
      owner,
      'warmupSteps',
      schedule.warmupSteps,
      `at most totalSteps (${schedule.totalSteps})`,
    );
  return schedule;
}

/** The factor applied to the base learning rate at `step`. */
export function learningRateMultiplier(step: number, schedule: ScheduleConfig): number {
  const { kind, warmupSteps, minLrRatio, totalSteps } = schedule;
  if (step < warmupSteps) return (step + 1) / warmupSteps;
  if (kind === 'constant') return 1;
  if (totalSteps === undefined)
    throw new Error(`schedule '${kind}' needs totalSteps; parse it with parseSchedule`);
  const decaySteps = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - warmupSteps) / decaySteps));
  const shape = kind === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
  return minLrRatio + (1 - minLrRatio) * shape;
}

export function learningRateAt(step: number, baseLr: number, schedule: ScheduleConfig): number {
  return baseLr * learningRateMultiplier(step, schedule);
}
