/**
 * The encodings spe-linear registers, through core's conformance kit, under configs that reach
 * each path: sine and conv (1D and 2D), gated and not, shared by the layers and per layer.
 */
import { describePackageConformance } from '@posenc/core/testing';
import './index.js';
import { SPE_PACKAGE } from './spe/spe-encoding.js';

const small = { realizations: 6, sines: 2, kernelSize: 3 };

describePackageConformance(SPE_PACKAGE, {
  spe: [
    { config: small },
    { config: { ...small, gated: false }, causal: false },
    { config: { ...small, shared: false } },
    { config: { ...small, kind: 'conv' } },
    { config: { ...small, kind: 'conv', gated: false, shared: false }, causal: false },
    { config: { ...small, kind: 'conv2d' }, causal: false },
  ],
  'fft-rpe': [
    { config: { maxDistance: 3 } },
    { config: { maxDistance: 3 }, causal: false },
    { config: { buckets: 'log', numBuckets: 8, maxDistance: 16 } },
  ],
});
