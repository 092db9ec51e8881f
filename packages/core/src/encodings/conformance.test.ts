/**
 * Every encoding core registers, through the conformance kit, under configs that reach each of
 * its code paths (variants, per-layer and per-head tables, causal and bidirectional attention).
 */
import { describe, expect, it } from 'vitest';
import { listEncodings } from '../encoding/registry.js';
import { describeEncodingConformance, type ConformanceCase } from '../testing/index.js';
import './index.js';

const CASES: Record<string, ConformanceCase[]> = {
  none: [{ config: {} }],
  sinusoidal: [
    { config: {} },
    { config: { layout: 'fairseq', scale: 1, paddingIdx: 1 }, causal: false },
  ],
  learned: [{ config: {} }, { config: { interpolate: 'none' } }],
  alibi: [{ config: { variant: 'causal' } }, { config: { variant: 'symmetric' }, causal: false }],
  t5: [
    { config: {} },
    { config: {}, causal: false },
    { config: { perLayer: true, numBuckets: 8, maxDistance: 16, bidirectional: true } },
  ],
  shaw: [
    { config: {} },
    { config: { clip: 2, perHead: true }, causal: false },
    { config: { values: false } },
    { config: { keys: false } },
  ],
  relative_key_query: [{ config: {} }, { config: { mode: 'key' }, causal: false }],
};

const registered = listEncodings().filter((d) => d.package === '@posenc/core');

describe('the conformance cases of core', () => {
  it('cover every encoding core registers, and only those', () => {
    expect(Object.keys(CASES).sort()).toEqual(registered.map((d) => d.name).sort());
  });
});

for (const definition of registered)
  describeEncodingConformance(definition, CASES[definition.name] ?? []);
