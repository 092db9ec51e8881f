import { describe, expect, it } from 'vitest';
import { formatSeconds } from './format.js';

describe('formatSeconds', () => {
  it('writes each range in its unit', () => {
    expect(formatSeconds(850)).toBe('850 ms');
    expect(formatSeconds(4_240)).toBe('4.2 s');
    expect(formatSeconds(42_300)).toBe('42 s');
    expect(formatSeconds(205_000)).toBe('3 min 25 s');
    expect(formatSeconds(7_500_000)).toBe('2 h 5 min');
  });

  it('rounds before it splits, so no unit reaches its next one', () => {
    expect(formatSeconds(999.6)).toBe('1.0 s');
    expect(formatSeconds(9_960)).toBe('10 s');
    expect(formatSeconds(59_600)).toBe('1 min 0 s');
    expect(formatSeconds(899_600)).toBe('15 min 0 s');
    expect(formatSeconds(3_599_600)).toBe('1 h 0 min');
  });
});
