/**
 * The LM harness's rows: built from core's registry (every encoding and variant a decoder can
 * use) and the plugins' declared procedures, unique names, the presets' methods among them,
 * unavailable plugins reported with their reason, and every available row trains and evaluates
 * without leaking tensors.
 */
import { initEngine, listEncodings, registerEncoding, tf, train } from '@posenc/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { MethodUnavailableError, resolveRows } from '../../../run/methods.js';
import { importPlugin, requireEncoding, requireExports } from '../../../run/plugin-import.js';
import { loadPlugins, PLUGIN_PACKAGES } from '../../../run/plugins.js';
import type { LMConfig } from '../config.js';
import type { LMData } from '../data.js';
import { LM_PRESETS } from '../presets.js';
import { lmRows } from './rows.js';
import type { LMRow } from './session.js';

beforeAll(async () => {
  await initEngine({ engine: 'cpu', log: null });
});

describe('LM rows', () => {
  it('has unique names and holds every method the presets name', async () => {
    const names = (await lmRows()).map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const preset of Object.values(LM_PRESETS))
      for (const m of preset.methods) if (m !== 'all') expect(names).toContain(m);
    expect(names).toEqual(
      expect.arrayContaining([
        'rope',
        'xpos',
        'rope+dynamic',
        'pia',
        'shortformer',
        'rope+chunk0.25',
      ]),
    );
  });

  it('has a row for every registered encoding and variant, and none for one a decoder cannot use', async () => {
    await loadPlugins();
    // Encodings declared for grid positions only (irpe-vision's) or for linear attention only
    // (spe-linear's) are methods of other tasks, not LM rows.
    const otherTask = (d: ReturnType<typeof listEncodings>[number]) =>
      (typeof d.positions === 'object' && !d.positions.kinds.includes('1d')) ||
      (Array.isArray(d.supports) && !d.supports.includes('softmax'));
    const registered = listEncodings()
      .filter((d) => !otherTask(d))
      .flatMap((d) => [d.name, ...(d.variants ?? []).map((v) => v.name)]);
    expect(registered.length).toBeGreaterThanOrEqual(7 + 3 + 1);
    const base = {
      description: 'test',
      package: '@posenc/test',
      schema: {},
      create: () => ({}) as never,
    };
    registerEncoding({
      ...base,
      name: 'grid-only',
      supports: ['softmax'],
      positions: { kinds: ['2d'], fractional: false },
    });
    registerEncoding({
      ...base,
      name: 'linear-only',
      supports: ['linear'],
      positions: { kinds: ['1d'], fractional: true },
    });
    const names = (await lmRows()).map((r) => r.name);
    // Every other encoding the packages register works in a causal softmax decoder.
    for (const name of registered) expect(names).toContain(name);
    expect(names).not.toContain('grid-only');
    expect(names).not.toContain('linear-only');
    for (const row of await lmRows()) expect(row.package).toMatch(/^@posenc\//);
  });

  it('loads every plugin in the one list', async () => {
    const statuses = await loadPlugins();
    expect(statuses.map((s) => s.package)).toEqual([...PLUGIN_PACKAGES]);
    for (const s of statuses) expect(s.reason).toBeUndefined();
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
    const fake: LMRow = {
      name: 'fake',
      description: 'a method whose package is missing',
      paper: '—',
      package: '@posenc/not-a-package',
      prepare: async () => {
        await importPlugin('fake', '@posenc/not-a-package');
        throw new Error('unreachable');
      },
    };
    const [resolved] = await resolveRows([fake]);
    expect(resolved).toMatchObject({
      available: false,
      reason: '@posenc/not-a-package is not installed',
    });
  });
});

describe('every available row', async () => {
  const resolved = await resolveRows(await lmRows());
  const config: LMConfig = {
    ...LM_PRESETS['quick']!.config,
    trainLength: 16,
    evalLengths: [16, 32],
    batch: 2,
    steps: 4,
    model: { modelDim: 16, layers: 1, heads: 2, ffnDim: 32 },
  };
  const tokens = Uint8Array.from({ length: 6000 }, (_, i) => (i * 31 + (i >> 3)) % 97);
  // Only what the rows read of the data: the training stream and the vocabulary.
  const data = { vocabSize: 256, train: { tokens, units: 1 } } as unknown as LMData;
  const segments = [
    Uint8Array.from({ length: 65 }, (_, i) => (i * 7) % 97),
    Uint8Array.from({ length: 65 }, (_, i) => (i * 5) % 97),
  ];

  it.each(resolved.map((r) => [r.row.name, r] as const))(
    '%s trains a few steps and evaluates without leaking tensors',
    async (_, r) => {
      if (!r.available) {
        // A plugin that is not there is reported, not faked; nothing to run.
        expect(r.reason.length).toBeGreaterThan(0);
        return;
      }
      expect(r.row.checkConfig?.(config)).toBeUndefined();
      const before = tf.memory().numTensors;
      const session = r.factory({ config, data, seed: 1 });
      try {
        const result = await train({
          parameters: session.parameters(),
          steps: config.steps,
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
