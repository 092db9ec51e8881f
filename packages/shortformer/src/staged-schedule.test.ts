import { describe, expect, it } from 'vitest';
import { StagedSchedule } from './index.js';

describe('StagedSchedule', () => {
  it('keeps tokens per batch fixed: the batch grows as the length shrinks', () => {
    const schedule = new StagedSchedule({
      stages: [
        { length: 128, share: 0.25 },
        { length: 512, share: 0.75 },
      ],
      tokensPerBatch: 9216 / 2,
      totalSteps: 10,
    });
    expect(schedule.stages).toEqual([
      { index: 0, length: 128, batchSize: 36, cacheLength: 128, firstStep: 0, steps: 3 },
      { index: 1, length: 512, batchSize: 9, cacheLength: 512, firstStep: 3, steps: 7 },
    ]);
    for (let step = 0; step < 10; step++) {
      const { stage, stepInStage } = schedule.at(step);
      expect(stage.batchSize * stage.length).toBe(4608);
      expect(stage.index).toBe(step < 3 ? 0 : 1);
      expect(stepInStage).toBe(step < 3 ? step : step - 3);
    }
  });

  it('gives every step to exactly one stage, for any shares', () => {
    const schedule = new StagedSchedule({
      stages: [
        { length: 8, share: 1 / 3 },
        { length: 16, share: 1 / 3 },
        { length: 32, share: 1 / 3, cacheLength: 0 },
      ],
      tokensPerBatch: 64,
      totalSteps: 100,
      defaultCache: 0,
    });
    expect(schedule.stages.map((s) => s.steps)).toEqual([33, 34, 33]);
    expect(schedule.stages.map((s) => s.cacheLength)).toEqual([0, 0, 0]);
    expect(schedule.stages.reduce((sum, s) => sum + s.steps, 0)).toBe(100);
  });

  it('rejects bad stages with the field, the value and what is allowed', () => {
    const make =
      (stages: { length: number; share: number }[], tokensPerBatch = 64, totalSteps = 10) =>
      () =>
        new StagedSchedule({ stages, tokensPerBatch, totalSteps });
    expect(make([{ length: 48, share: 1 }])).toThrow(
      /stages\[0\]\.length = 48 .*dividing tokensPerBatch = 64/,
    );
    expect(make([{ length: 8, share: 0.5 }])).toThrow(/shares sum to 0.5; expected 1/);
    expect(make([{ length: 8, share: 0 }])).toThrow(/stages\[0\]\.share = 0 .*\(0, 1\]/);
    expect(
      make([
        { length: 8, share: 0.01 },
        { length: 16, share: 0.99 },
      ]),
    ).toThrow(/stages\[0\] \(share 0.01\) gets no step of 10/);
    expect(make([])).toThrow(/at least one stage/);
    expect(make([{ length: 8, share: 1 }], 64, 0)).toThrow(/totalSteps = 0/);
    expect(() =>
      new StagedSchedule({
        stages: [{ length: 8, share: 1 }],
        tokensPerBatch: 8,
        totalSteps: 2,
      }).at(2),
    ).toThrow(/step = 2 .*\[0, 1\]/);
  });
});
