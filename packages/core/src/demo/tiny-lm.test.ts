/**
 * Acceptance: a tiny LM (2 layers, d=64) trained a few hundred steps with each reference
 * encoding brings its loss well below the unigram entropy of its text. The bar is measured on
 * the text itself, not a constant: 85% of the unigram entropy, i.e. the model must have removed
 * at least 15% of the per-byte uncertainty using context. (Measured at 200 steps: no PE 0.79·H,
 * learned 0.82·H; a model stuck at the unigram distribution stays at 1.0·H.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/select.js';
import { REFERENCE_ENCODING_NAMES } from '../encodings/index.js';
import { sotuText } from '../data/sotu.js';
import { trainTinyLM } from './tiny-lm.js';

const STEPS = 250;

let text: string;

beforeAll(async () => {
  await initEngine({ log: null });
  text = sotuText(1790, 1800);
});

describe('tiny LM learns with every reference encoding', () => {
  for (const name of REFERENCE_ENCODING_NAMES) {
    it(`${name}: final loss well below the unigram entropy`, async () => {
      const r = await trainTinyLM({
        encoding: { name },
        text,
        steps: STEPS,
        batch: 8,
        length: 64,
        seed: 1,
      });
      const final = r.losses.slice(-20).reduce((a, b) => a + b, 0) / 20;
      expect(r.losses).toHaveLength(STEPS);
      expect(r.losses.every(Number.isFinite)).toBe(true);
      expect(final).toBeLessThan(0.85 * r.unigramEntropy);
    }, 600_000); // a guard against hangs only: a loaded 2-core machine can take minutes
  }
});
