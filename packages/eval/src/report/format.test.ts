import { describe, expect, it } from 'vitest';
import { formatSeconds } from './format.js';

describe('formatSeconds', () => {
  const cases: [string, [number, string][]][] = [
    [
      'writes each range in its unit',
      [
        [850, '850 ms'],
        [4_240, '4.2 s'],
        [42_300, '42 s'],
        [205_000, '3 min 25 s'],
        [7_500_000, '2 h 5 min'],
      ],
    ],
    [
      'rounds before it splits, so no unit reaches its next one',
      [
        [999.6, '1.0 s'],
        [9_960, '10 s'],
        [59_600, '1 min 0 s'],
        [899_600, '15 min 0 s'],
        [3_599_600, '1 h 0 min'],
      ],
    ],
  ];
  for (const [name, pairs] of cases)
    it(name, () => {
      for (const [ms, text] of pairs) expect(formatSeconds(ms), `${ms} ms`).toBe(text);
    });
});
