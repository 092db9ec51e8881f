import { describe, expect, it } from 'vitest';
import { assertSupports } from '../encoding/position-encoding.js';
import { createEncoding, describeEncodingConfig, listEncodings } from '../encoding/registry.js';
import {
  AlibiEncoding,
  KeyQueryRelativeEncoding,
  LearnedAbsoluteEncoding,
  NoPositionEncoding,
  registerReferenceEncodings,
  ShawRelativeEncoding,
  SinusoidalEncoding,
  T5RelativeBias,
} from './index.js';

const reference = {
  none: NoPositionEncoding,
  sinusoidal: SinusoidalEncoding,
  learned: LearnedAbsoluteEncoding,
  alibi: AlibiEncoding,
  t5: T5RelativeBias,
  shaw: ShawRelativeEncoding,
  relative_key_query: KeyQueryRelativeEncoding,
};

describe('reference encodings in the registry', () => {
  it('are registered once on import, and registering again changes nothing', () => {
    registerReferenceEncodings();
    registerReferenceEncodings();
    const core = listEncodings().filter((d) => d.package === '@posenc/core');
    expect(core.map((d) => d.name).sort()).toEqual(Object.keys(reference).sort());
    for (const d of core) {
      expect(d.description.length).toBeGreaterThan(10);
      expect(d.paper).toMatch(/et al\. \d{4}, arXiv \d{4}\.\d{5}/);
    }
  });

  it('are created by name with every field defaulted', () => {
    for (const [name, cls] of Object.entries(reference)) {
      const encoding = createEncoding({ name });
      expect(encoding).toBeInstanceOf(cls);
      expect(encoding.name).toBe(name);
    }
    expect((createEncoding({ name: 't5' }) as T5RelativeBias).config).toEqual({
      numBuckets: 32,
      maxDistance: 128,
      perLayer: false,
    });
    expect((createEncoding({ name: 'shaw' }) as ShawRelativeEncoding).config).toEqual({
      clip: 16,
      keys: true,
      values: true,
      perHead: false,
    });
    expect(describeEncodingConfig('alibi')).toEqual([
      expect.stringMatching(/^variant: one of "causal", "symmetric" \(default "causal"\)/),
    ]);
  });

  it('reject bad configs with a message naming the field, the value and what is allowed', () => {
    const cases: [Record<string, unknown> & { name: string }, RegExp][] = [
      [
        { name: 'alibi', heads: -1 },
        /encoding 'alibi': field 'heads' = -1 is not allowed; unknown field; allowed fields: variant/,
      ],
      [
        { name: 'alibi', variant: 'both' },
        /field 'variant' = "both" is not allowed; expected one of "causal", "symmetric"/,
      ],
      [
        { name: 't5', numBuckets: -1 },
        /encoding 't5': field 'numBuckets' = -1 is not allowed; expected an integer ≥ 4/,
      ],
      [
        { name: 't5', maxDistance: 2.5 },
        /field 'maxDistance' = 2.5 is not allowed; expected an integer ≥ 1/,
      ],
      [
        { name: 't5', bidirectional: 'yes' },
        /field 'bidirectional' = "yes" is not allowed; expected true or false/,
      ],
      [
        { name: 'sinusoidal', layout: 'vaswani' },
        /field 'layout' = "vaswani" is not allowed; expected one of "interleaved", "fairseq"/,
      ],
      [
        { name: 'sinusoidal', base: 1 },
        /field 'base' = 1 is not allowed; expected a finite number > 1/,
      ],
      [
        { name: 'sinusoidal', paddingIdx: -1 },
        /field 'paddingIdx' = -1 is not allowed; expected an integer ≥ 0/,
      ],
      [
        { name: 'learned', interpolate: 'cubic' },
        /field 'interpolate' = "cubic" is not allowed; expected one of "linear", "none"/,
      ],
      [{ name: 'shaw', perHead: 1 }, /field 'perHead' = 1 is not allowed; expected true or false/],
      [{ name: 'relative_key_query', mode: 'value' }, /field 'mode' = "value" is not allowed/],
    ];
    for (const [config, message] of cases) expect(() => createEncoding(config)).toThrow(message);
  });

  it('declare the attention kinds they support', () => {
    for (const name of ['alibi', 't5', 'shaw', 'relative_key_query'])
      expect(() => assertSupports(createEncoding({ name }), 'linear')).toThrow(
        new RegExp(`encoding '${name}' does not support linear attention; it supports: softmax`),
      );
    for (const name of ['none', 'sinusoidal', 'learned'])
      expect(() => assertSupports(createEncoding({ name }), 'linear')).not.toThrow();
  });
});
