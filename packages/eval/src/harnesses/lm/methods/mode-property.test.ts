/**
 * The property the sliding-window mode exists for (Press et al. 2021, §2): it scores the same
 * targets as nonoverlapping windows with more context each, so on a trained model it is never
 * worse at the training length beyond noise. Every available row is trained briefly as a tiny
 * byte LM on real text and scored in both modes by its own procedure (a cache-trained model
 * with its cache in both); a row whose procedure cannot score a mode must say so (n/a).
 */
import { byteTokens, initEngine, sotuText, train } from '@posenc/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveRows } from '../../../run/methods.js';
import type { LMConfig } from '../config.js';
import type { LMData } from '../data.js';
import { lmHarness } from '../harness.js';
import { LM_PRESETS } from '../presets.js';
import { EVAL_MODES } from '../evaluation/windows.js';
import { lmRows } from './rows.js';

beforeAll(async () => {
  await initEngine({ engine: (process.env['P_ENGINE'] ?? 'cpu') as 'cpu', log: null });
});

/** Sliding may exceed nonoverlapping by this much before it counts as worse (float noise is ~1e-6). */
const TOLERANCE = 0.005;

describe('sliding window against nonoverlapping on a trained tiny model', async () => {
  const resolved = await resolveRows(await lmRows());
  const config: LMConfig = {
    ...LM_PRESETS['quick']!.config,
    trainLength: 16,
    evalLengths: [16],
    batch: Number(process.env['P_BATCH'] ?? 4),
    steps: Number(process.env['P_STEPS'] ?? 30),
    lr: Number(process.env['P_LR'] ?? 2e-2),
    model: { modelDim: Number(process.env['P_DIM'] ?? 16), layers: 1, heads: 2, ffnDim: 2 * Number(process.env['P_DIM'] ?? 16) },
  };
  // Only what the rows read of the data: the training stream and the vocabulary.
  const tokens = byteTokens(sotuText(1790, 1795));
  const data = { vocabSize: 256, train: { tokens, units: 1 } } as unknown as LMData;
  const held = byteTokens(sotuText(1796, 1796));
  const segments = [0, 1, 2, 3].map((k) => held.subarray(k * 400, k * 400 + 129));
  const spec = { length: 16, stride: 8, maxBatchTokens: 256 };

  it.each(resolved.filter((r) => r.available).map((r) => [r.row.name, r] as const))(
    '%s: sliding ≤ nonoverlapping at L, or sliding n/a',
    async (_, r) => {
      if (!r.available) return;
      const session = r.factory({ config, data, seed: 0 });
      try {
        const { steps, lr, weightDecay, schedule, clipNorm } = lmHarness.training(config, data);
        const t0 = performance.now();
        await train({
          parameters: session.parameters(),
          steps,
          batchAt: (s, m) => session.batchAt(s, m),
          loss: (b, c) => session.loss(b, c),
          optimizer: { lr, weightDecay },
          schedule,
          clipNorm,
        });
        const t1 = performance.now();
        const unavailable = EVAL_MODES.filter((m) => session.unavailableModes?.[m]);
        if (unavailable.includes('sliding')) return;
        const no = await session.evaluate(segments, { ...spec, mode: 'nonoverlapping' });
        const sw = await session.evaluate(segments, { ...spec, mode: 'sliding' });
        console.log(`${_}: train ${(t1 - t0).toFixed(0)} ms, eval ${(performance.now() - t1).toFixed(0)} ms, no ${no.perplexity.toFixed(3)} sw ${sw.perplexity.toFixed(3)}`);
        expect(sw.tokens).toBe(no.tokens);
        // Trained: well below the ~60 of a model that only knows byte frequencies.
        expect(no.perplexity).toBeLessThan(30);
        expect(sw.perplexity).toBeLessThanOrEqual(no.perplexity * (1 + TOLERANCE));
      } finally {
        session.dispose();
      }
    },
  );
});
