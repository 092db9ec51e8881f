import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './schema.js';

const schema = {
  heads: { type: 'number', integer: true, min: 1 },
  base: { type: 'number', greaterThan: 1, default: 10000 },
  variant: { type: 'enum', values: ['causal', 'symmetric'], default: 'causal' },
  scale: { type: 'number', optional: true },
  learn: { type: 'boolean', default: false },
} as const;

describe('parseConfig', () => {
  it('fills defaults and keeps given values', () => {
    expect(parseConfig('x', schema, { heads: 4 })).toEqual({
      heads: 4,
      base: 10000,
      variant: 'causal',
      learn: false,
    });
    expect(parseConfig('x', schema, { heads: 2, scale: 0.5, variant: 'symmetric' })).toMatchObject({
      scale: 0.5,
      variant: 'symmetric',
    });
  });

  it.each([
    [{ heads: 0 }, "x: field 'heads' = 0 is not allowed; expected an integer ≥ 1"],
    [{ heads: 2.5 }, "x: field 'heads' = 2.5 is not allowed; expected an integer ≥ 1"],
    [{ heads: '4' }, `x: field 'heads' = "4" is not allowed; expected an integer ≥ 1`],
    [{}, "x: field 'heads' = undefined (missing) is not allowed; required: an integer ≥ 1"],
    [{ heads: 1, base: 1 }, "x: field 'base' = 1 is not allowed; expected a finite number > 1"],
    [
      { heads: 1, variant: 'both' },
      `x: field 'variant' = "both" is not allowed; expected one of "causal", "symmetric"`,
    ],
    [{ heads: 1, learn: 1 }, "x: field 'learn' = 1 is not allowed; expected true or false"],
    [
      { heads: 1, haeds: 2 },
      "x: field 'haeds' = 2 is not allowed; unknown field; allowed fields: heads, base, variant, scale, learn",
    ],
    [{ heads: Number.NaN }, "x: field 'heads' = NaN is not allowed; expected an integer ≥ 1"],
  ])('rejects %j with a message naming field, value and what is allowed', (input, message) => {
    expect(() => parseConfig('x', schema, input as Record<string, unknown>)).toThrow(message);
    expect(() => parseConfig('x', schema, input as Record<string, unknown>)).toThrow(ConfigError);
  });
});
