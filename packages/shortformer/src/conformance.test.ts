/** Position-infused attention through core's conformance kit. */
import { describePackageConformance } from '@posenc/core/testing';
import './index.js';

describePackageConformance('@posenc/shortformer', {
  pia: [{ config: {} }, { config: { base: 500, scale: 0.5 }, causal: false }],
});
