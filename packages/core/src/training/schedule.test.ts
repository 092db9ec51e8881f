import { describe, expect, it } from 'vitest';
import { learningRateAt, learningRateMultiplier, parseSchedule } from './schedule.js';

describe('learning-rate schedules', () => {
  // warmup 10, decay over steps 10..110 to 10% of the base rate.
  const common = { warmupSteps: 10, totalSteps: 110, minLrRatio: 0.1 };

  it('warms up linearly from (step+1)/warmupSteps to 1', () => {
    for (const kind of ['cosine', 'linear', 'constant'] as const) {
      const schedule = parseSchedule({ kind, ...common });
      expect(learningRateMultiplier(0, schedule)).toBeCloseTo(0.1, 12);
      expect(learningRateMultiplier(4, schedule)).toBeCloseTo(0.5, 12);
      expect(learningRateMultiplier(9, schedule)).toBe(1);
      expect(learningRateMultiplier(10, schedule)).toBe(1);
    }
  });

  it('decays along a half cosine to minLrRatio and stays there', () => {
    const schedule = parseSchedule({ kind: 'cosine', ...common });
    const at = (step: number) => learningRateMultiplier(step, schedule);
    expect(at(35)).toBeCloseTo(0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI / 4)), 12); // progress 1/4: 0.86820
    expect(at(60)).toBeCloseTo(0.55, 12); // halfway
    expect(at(85)).toBeCloseTo(0.1 + 0.9 * 0.5 * (1 - Math.cos(Math.PI / 4)), 12); // progress 3/4: 0.23180
    expect(at(110)).toBeCloseTo(0.1, 12);
    expect(at(500)).toBeCloseTo(0.1, 12);
  });

  it('decays linearly to minLrRatio', () => {
    const schedule = parseSchedule({ kind: 'linear', ...common });
    const at = (step: number) => learningRateMultiplier(step, schedule);
    expect(at(35)).toBeCloseTo(0.775, 12);
    expect(at(60)).toBeCloseTo(0.55, 12);
    expect(at(110)).toBeCloseTo(0.1, 12);
    expect(at(111)).toBeCloseTo(0.1, 12);
  });

  it('keeps the base rate with the constant kind, with or without warmup', () => {
    expect(learningRateMultiplier(1000, parseSchedule({ kind: 'constant', ...common }))).toBe(1);
    expect(learningRateMultiplier(0, parseSchedule({}))).toBe(1);
  });

  it('decays to zero by default and without warmup starts at the full rate', () => {
    const schedule = parseSchedule({ kind: 'cosine', totalSteps: 100 });
    expect(learningRateAt(0, 3e-4, schedule)).toBeCloseTo(3e-4, 15);
    expect(learningRateAt(50, 3e-4, schedule)).toBeCloseTo(1.5e-4, 15);
    expect(learningRateAt(100, 3e-4, schedule)).toBe(0);
  });

  it('rejects configs that cannot be followed, naming field, value and what is allowed', () => {
    expect(() => parseSchedule({ kind: 'cosine' })).toThrow(
      "schedule: field 'totalSteps' = undefined (missing) is not allowed; required for kind 'cosine'",
    );
    expect(() => parseSchedule({ kind: 'linear', warmupSteps: 20, totalSteps: 10 })).toThrow(
      "field 'warmupSteps' = 20 is not allowed; at most totalSteps (10)",
    );
    expect(() => parseSchedule({ kind: 'step' as never })).toThrow(
      `field 'kind' = "step" is not allowed; expected one of "cosine", "linear", "constant"`,
    );
    expect(() => parseSchedule({ minLrRatio: 1.5 })).toThrow(
      "field 'minLrRatio' = 1.5 is not allowed; expected a finite number ≥ 0 ≤ 1",
    );
  });
});
