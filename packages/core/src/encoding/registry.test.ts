import { describe, expect, it } from 'vitest';
import {
  createEncoding,
  describeEncodingConfig,
  listEncodings,
  registerEncoding,
} from './registry.js';

registerEncoding({
  name: 'test-scaled',
  description: 'test encoding',
  package: '@posenc/test',
  schema: { scale: { type: 'number', min: 0, default: 1, doc: 'multiplier' } },
  supports: ['softmax'],
  positions: { kinds: ['1d'], fractional: true },
  create: (config) => ({ name: `test-scaled:${config.scale}`, config, supports: ['softmax'] }),
});

describe('encoding registry', () => {
  it('creates an encoding from a plain config, with defaults', () => {
    expect(createEncoding({ name: 'test-scaled' }).name).toBe('test-scaled:1');
    expect(createEncoding({ name: 'test-scaled', scale: 3 }).name).toBe('test-scaled:3');
    expect(listEncodings().map((d) => d.name)).toContain('test-scaled');
    expect(describeEncodingConfig('test-scaled')).toEqual([
      'scale: a finite number ≥ 0 (default 1) — multiplier',
    ]);
  });

  it('an unknown name lists the registered ones', () => {
    expect(() => createEncoding({ name: 'rop' })).toThrow(
      /encoding: field 'name' = "rop" is not allowed; unknown encoding; registered: .*test-scaled/,
    );
  });

  it('a bad field names the encoding, the field, the value and what is allowed', () => {
    expect(() => createEncoding({ name: 'test-scaled', scale: -1 })).toThrow(
      "encoding 'test-scaled': field 'scale' = -1 is not allowed; expected a finite number ≥ 0",
    );
    expect(() => createEncoding({ name: 'test-scaled', scael: 2 })).toThrow(
      /field 'scael' = 2 is not allowed; unknown field; allowed fields: scale/,
    );
  });

  it('a second package cannot take over a registered name', () => {
    expect(() =>
      registerEncoding({
        name: 'test-scaled',
        description: '',
        package: '@posenc/other',
        schema: {},
        supports: [],
        positions: { kinds: [], fractional: false },
        create: (config) => ({ name: 'x', config, supports: [] }),
      }),
    ).toThrow(
      "encoding 'test-scaled' is already registered by @posenc/test; @posenc/other cannot register it again",
    );
  });
});
