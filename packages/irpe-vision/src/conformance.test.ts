/**
 * The encoding @posenc/irpe-vision registers, through core's conformance kit, under configs
 * that reach each code path: every method, both modes, tables on q, k and v, shared and per-head,
 * and non-zero tables (the default zeros would make every output vanish).
 */
import { describePackageConformance } from '@posenc/core/testing';
import './index.js';

const filled = { initStd: 0.5 };

describePackageConformance('@posenc/irpe-vision', {
  irpe: [
    { config: {}, causal: false },
    { config: { ...filled, on: 'qkv' }, causal: false },
    { config: { ...filled, method: 'cross', on: 'qk', sharedHead: false }, causal: false },
    { config: { ...filled, method: 'euc', mode: 'bias', on: 'qk' }, causal: false },
    { config: { ...filled, method: 'quant', mode: 'bias', on: 'k', sharedHead: false } },
    { config: { ...filled, method: 'cross', on: 'v', sharedHead: false }, causal: false },
  ],
});
