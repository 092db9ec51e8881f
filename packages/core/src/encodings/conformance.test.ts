/**
 * Every encoding core registers, through the conformance kit, under configs that reach each of
 * its code paths (variants, per-layer and per-head tables, causal and bidirectional attention).
 */
import { describePackageConformance } from '../testing/index.js';
import './index.js';

describePackageConformance('@posenc/core', {
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
});
