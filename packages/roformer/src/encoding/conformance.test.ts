/**
 * The rope encoding through core's conformance kit, under configs that reach each of its paths:
 * both layouts, partial and offset rotation, rotary values, every scaling, xPos, and (where the
 * config allows) linear attention and axial 2D positions.
 */
import { describePackageConformance } from '@posenc/core/testing';
import '../index.js';
import { ROPE_PACKAGE } from './rope-encoding.js';

describePackageConformance(ROPE_PACKAGE, {
  rope: [
    { config: {} },
    { config: {}, causal: false },
    { config: { xpos: true, xposScaleBase: 64 } },
    { config: { layout: 'half', partialRotaryFactor: 0.5, rotaryValue: true } },
    { config: { rotaryDim: 4, rotaryStart: 2, base: 500 }, causal: false },
    { config: { rotaryDim: 6 } },
    { config: { scaling: 'linear', factor: 4 } },
    { config: { scaling: 'ntk', factor: 4 } },
    // The conformance positions reach 12: past a trained length of 8, so the scaling acts.
    { config: { scaling: 'dynamic', factor: 2, maxPositions: 8 } },
    { config: { scaling: 'yarn', factor: 4, originalMaxPositions: 8 } },
    { config: { scaling: 'llama3', factor: 8, originalMaxPositions: 8 } },
  ],
});
