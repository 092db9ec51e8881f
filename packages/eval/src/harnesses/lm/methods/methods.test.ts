/**
 * The method table: unique names, the presets' methods in it, unavailable plugins reported with
 * their reason, and every available method trains and evaluates without leaking tensors.
 */
import { initEngine, tf, train } from '@posenc/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRESETS } from '../bench/presets.js';
import { MethodUnavailableError, type LMMethod, type MethodContext } from './method.js';
import { importPlugin, requireEncoding, requireExports } from './plugin-import.js';
import { allMethods, resolveMethods } from './table.js';

beforeAll(async () => {
  await initEngine({ engine: 'cpu', log: null });
});

describe('method table', () => {
  it('has unique names and holds every method the presets name', () => {
    const names = allMethods().map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const preset of Object.values(PRESETS))
      for (const m of preset.methods) if (m !== 'all') expect(names).toContain(m);
    for (const core of [
      'none',
      'sinusoidal',
      'learned',
      'alibi',
      't5',
      'shaw',
      'relative_key_query',
    ])
      expect(names).toContain(core);
    expect(names).toEqual(expect.arrayContaining(['rope', 'shortformer', 'rope+chunk0.25']));
  });

  it('reports a missing package, export or encoding as unavailable with the reason', async () => {
    await expect(importPlugin('ghost', '@posenc/not-a-package')).rejects.toThrow(
      new MethodUnavailableError('ghost', '@posenc/not-a-package is not installed'),
    );
    expect(() => requireExports('m', '@posenc/core', { a: () => 1 }, ['a', 'b', 'c'])).toThrow(
      "method 'm' is unavailable: @posenc/core does not export b, c",
    );
    expect(() => requireEncoding('m', '@posenc/x', 'no-such-encoding')).toThrow(
      "@posenc/x registers no 'no-such-encoding' encoding",
    );
    const fake: LMMethod = {
      name: 'fake',
      description: 'a method whose package is missing',
      paper: '—',
      package: '@posenc/not-a-package',
      prepare: async () => {
        await importPlugin('fake', '@posenc/not-a-package');
        throw new Error('unreachable');
      },
    };
    const [resolved] = await resolveMethods([fake]);
    expect(resolved).toMatchObject({
      available: false,
      reason: '@posenc/not-a-package is not installed',
    });
  });
});

describe('every available method', async () => {
  const resolved = await resolveMethods();
  const context: MethodContext = {
    trainTokens: Uint8Array.from({ length: 6000 }, (_, i) => (i * 31 + (i >> 3)) % 97),
    vocabSize: 256,
    trainLength: 16,
    longestEvalLength: 32,
    batch: 2,
    steps: 4,
    seed: 1,
    model: { modelDim: 16, layers: 1, heads: 2, ffnDim: 32 },
  };
  const segments = [
    Uint8Array.from({ length: 65 }, (_, i) => (i * 7) % 97),
    Uint8Array.from({ length: 65 }, (_, i) => (i * 5) % 97),
  ];

  it.each(resolved.map((r) => [r.method.name, r] as const))(
    '%s trains a few steps and evaluates without leaking tensors',
    async (_, r) => {
      if (!r.available) {
        // A plugin that is not there is reported, not faked; nothing to run.
        expect(r.reason.length).toBeGreaterThan(0);
        return;
      }
      const before = tf.memory().numTensors;
      const session = r.factory(context);
      try {
        const result = await train({
          parameters: session.model.parameters(),
          steps: context.steps,
          batchAt: (s, m) => session.batchAt(s, m),
          loss: (b, c) => session.loss(b, c),
          optimizer: { lr: 1e-3 },
        });
        expect(result.lossHistory.every(Number.isFinite)).toBe(true);
        for (const mode of ['nonoverlapping', 'sliding'] as const)
          for (const length of [16, 32]) {
            const e = await session.evaluate(segments, {
              mode,
              length,
              stride: length / 2,
              maxBatchTokens: 64,
            });
            expect(e.tokens).toBe(128);
            expect(Number.isFinite(e.perplexity)).toBe(true);
          }
      } finally {
        session.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    },
  );
});
