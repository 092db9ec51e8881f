import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  createEncoding,
  DecoderLM,
  Encoder,
  getEncodingDefinition,
  gridPositions,
  linearAttention,
  MultiHeadAttention,
  positionsFromIds,
  sequencePositions,
  tf,
  ViT,
  type AttentionContext,
  type AttentionKind,
  type Positions,
} from '@posenc/core';
import '../index.js';
import { applyRope } from '../rope/apply-rope.js';
import {
  attentionContext,
  maxAbsDiff,
  onCpuWithoutLeaks,
  testBuildSpec,
} from '@posenc/core/testing';
import { uniform } from '../testing/random.js';
import { dot, referenceRope } from '../testing/reference-rope.js';
import { RopeEncoding } from './rope-encoding.js';
import { rotate } from '../rope/rotary-kernel.js';

onCpuWithoutLeaks();

function rope(config: Record<string, unknown> = {}): RopeEncoding {
  return createEncoding({ name: 'rope', ...config }) as RopeEncoding;
}

function context(
  queries: Positions,
  keys: Positions,
  options: { causal?: boolean; kind?: AttentionKind; headDim?: number } = {},
): AttentionContext {
  return attentionContext({ queries, keys, ...options });
}

function tensor4(seed: number, shape: [number, number, number, number]): tf.Tensor4D {
  return tf.tensor4d(
    uniform(
      seed,
      shape.reduce((a, b) => a * b),
    ),
    shape,
  );
}

describe('the rope encoding', () => {
  it('is registered by @posenc/roformer and validates its config', () => {
    expect(getEncodingDefinition('rope').package).toBe('@posenc/roformer');
    expect(rope()).toBeInstanceOf(RopeEncoding);
    expect(() => rope({ layout: 'neox' })).toThrow(ConfigError);
    expect(() => rope({ layout: 'neox' })).toThrow(
      /field 'layout' = "neox" is not allowed; expected one of "interleaved", "half"/,
    );
    expect(() => rope({ scaling: 'yarn' })).toThrow(
      /field 'factor' = undefined \(missing\) is not allowed; required with scaling 'yarn'/,
    );
    expect(() => rope({ scaling: 'linear', factor: 2, betaFast: 16 })).toThrow(
      /field 'betaFast' = 16 is not allowed; not used by scaling 'linear'; it applies to: yarn/,
    );
    expect(() => rope({ rotaryDim: 4, partialRotaryFactor: 0.5 })).toThrow(
      /give either rotaryDim or partialRotaryFactor/,
    );
    expect(() =>
      rope({ scaling: 'llama3', factor: 8, lowFreqFactor: 4, highFreqFactor: 2 }),
    ).toThrow(/field 'highFreqFactor' = 2 is not allowed; must be > lowFreqFactor = 4/);
    const spec = testBuildSpec({ layers: 1, maxPositions: 32, seed: 0 });
    expect(() => rope({ rotaryDim: 10 }).build(spec)).toThrow(
      /rotaryDim = 10 from startIndex = 0 does not fit in the 8 features/,
    );
    expect(() => rope({ rotaryDim: 3 }).build(spec)).toThrow(
      /rotaryDim = 3 is not allowed; expected a multiple of 2/,
    );
    expect(() => rope({ xpos: true, scaling: 'yarn', factor: 2 }).build({ ...spec })).not.toThrow();
  });

  it('offers for fusion exactly the rotation queryKey applies (1D, a cache, xPos, dynamic, 2D grids), and nothing where queryKey does more', () => {
    // Positions and inputs are freed by tidy; each encoding frees its kept tables.
    tf.tidy(() => {
      const configs: [Record<string, unknown>, Positions, Positions, boolean][] = [
        [{}, positionsFromIds([[5, 6, 7]]), sequencePositions(1, 8), true],
        [
          { layout: 'half', rotaryDim: 4, rotaryStart: 2 },
          sequencePositions(2, 6),
          sequencePositions(2, 6),
          false,
        ],
        [{ xpos: true }, positionsFromIds([[3, 4]]), sequencePositions(1, 5), true],
        [
          { scaling: 'dynamic', factor: 2, maxPositions: 4 },
          sequencePositions(1, 9),
          sequencePositions(1, 9),
          true,
        ],
        [{ layout: 'half' }, gridPositions(1, 2, 3, 1), gridPositions(1, 2, 3, 1), false],
      ];
      for (const [config, queries, keys, causal] of configs) {
        const encoding = rope(config);
        const ctx = context(queries, keys, { causal });
        const nq = queries.kind === '2d' ? 7 : queries.ids.shape[1];
        const nk = keys.kind === '2d' ? 7 : keys.ids.shape[1];
        const qkv = {
          q: tensor4(3, [2, 2, nq, 8]),
          k: tensor4(4, [2, 2, nk, 8]),
          v: tensor4(5, [2, 2, nk, 8]),
        };
        const expected = encoding.queryKey(qkv, ctx);
        const fused = encoding.fusedRotation(qkv, ctx)!;
        const rotation = { ...fused.attributes, transpose: false };
        const q = rotate(qkv.q, fused.query, rotation);
        const k = rotate(qkv.k, fused.key, rotation);
        const label = JSON.stringify(config);
        expect(maxAbsDiff(q.dataSync(), expected.q.dataSync()), label).toBe(0);
        expect(maxAbsDiff(k.dataSync(), expected.k.dataSync()), label).toBe(0);
        tf.dispose([q, k, expected.q, expected.k, qkv.q, qkv.k, qkv.v]);
        encoding.dispose();
      }
      const x = tensor4(6, [1, 2, 4, 8]);
      const positions = sequencePositions(1, 4);
      expect(
        rope({ rotaryValue: true }).fusedRotation(
          { q: x, k: x, v: x },
          context(positions, positions),
        ),
      ).toBeUndefined();
      expect(
        rope().fusedRotation(
          { q: x, k: x, v: x },
          context(positions, positions, { kind: 'linear' }),
        ),
      ).toBeUndefined();
      expect(
        rope({ xpos: true }).fusedRotation(
          { q: x, k: x, v: x },
          context(positions, positions, { causal: false }),
        ),
      ).toBeUndefined();
    });
  });

  it('rotates q at the query positions and k, v (rotaryValue) at the key positions of a cache', () => {
    const encoding = rope({ rotaryValue: true, layout: 'half', base: 500 });
    const queries = positionsFromIds([[5, 6, 7]]);
    const keys = sequencePositions(1, 8);
    const q = tensor4(1, [2, 2, 3, 8]);
    const k = tensor4(2, [2, 2, 8, 8]);
    const v = tensor4(3, [2, 2, 8, 8]);
    const out = encoding.queryKey({ q, k, v }, context(queries, keys));
    const options = { layout: 'half', base: 500 } as const;
    const want = [
      applyRope(q, [5, 6, 7], options),
      applyRope(k, undefined, options),
      applyRope(v, undefined, options),
    ];
    [out.q, out.k, out.v].forEach((t, i) =>
      expect(maxAbsDiff(t.dataSync(), want[i]!.dataSync())).toBe(0),
    );
    const plainEncoding = rope();
    const plain = plainEncoding.queryKey({ q, k, v }, context(queries, keys));
    plainEncoding.dispose();
    expect(plain.v).toBe(v); // values stay as they are unless rotaryValue
    tf.dispose([q, k, v, out.q, out.k, out.v, plain.q, plain.k, ...want, queries.ids, keys.ids]);
    encoding.dispose();
    expect(encoding.cachedTables).toBe(0);
  });

  it('partialRotaryFactor rotates int(headDim·factor) features and leaves the rest', () => {
    const encoding = rope({ partialRotaryFactor: 0.25, rotaryStart: 2 });
    const positions = sequencePositions(1, 4, 3);
    const q = tensor4(4, [1, 2, 4, 16]);
    const { q: rotated, k } = encoding.queryKey(
      { q, k: q, v: q },
      context(positions, positions, { headDim: 16 }),
    );
    const want = applyRope(q, positions, { rotaryDim: 4, startIndex: 2 });
    expect(maxAbsDiff(rotated.dataSync(), want.dataSync())).toBe(0);
    tf.dispose([q, rotated, k, want, positions.ids]);
    encoding.dispose();
  });

  it('makes an encoder’s output depend only on relative positions (shifted ids give the same output)', () => {
    const config = { vocabSize: 13, modelDim: 16, layers: 2, heads: 2, maxPositions: 64 };
    const encoder = new Encoder(config, [rope()]);
    const none = new Encoder(config, [createEncoding({ name: 'none' })]);
    // Sharper attention than the 0.02 init gives, so that positions visibly matter.
    for (const model of [encoder, none])
      for (const [name, p] of Object.entries(model.parameters()))
        if (/\.w[qk]\.weight$/.test(name))
          tf.tidy(() => p.assign(tf.randomNormal(p.shape, 0, 0.6, 'float32', 7)));
    const tokens = tf.tensor2d([[1, 5, 7, 2, 9, 4]], [1, 6], 'int32');
    const at = (offset: number, model: Encoder) => {
      const positions = sequencePositions(1, 6, offset);
      const hidden = model.forward(tokens, { positions }).hidden;
      const values = hidden.dataSync();
      tf.dispose([hidden, positions.ids]);
      return values;
    };
    expect(maxAbsDiff(at(0, encoder), at(1000, encoder))).toBeLessThan(1e-4);
    // Positions matter (the same tokens attended with and without the rotation differ).
    expect(maxAbsDiff(at(0, encoder), at(0, none))).toBeGreaterThan(1e-3);
    tf.dispose(tokens);
    encoder.dispose();
    none.dispose();
  });

  it('keeps one table per distinct positions across layers and calls, and frees them on dispose', () => {
    const encoder = new Encoder(
      { vocabSize: 7, modelDim: 8, layers: 3, heads: 2, maxPositions: 16 },
      [rope()],
    );
    const encoding = encoder.encodings[0] as RopeEncoding;
    const tokens = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
    for (let i = 0; i < 3; i++) tf.dispose(encoder.forward(tokens).hidden);
    // Queries and keys share positions and (without xPos) the plan: one entry for every layer and call.
    expect(encoding.cachedTables).toBe(1);
    tf.dispose(tokens);
    encoder.dispose();
    expect(encoding.cachedTables).toBe(0);
  });

  describe('xPos', () => {
    it('scales q by ζ^((m−c)/b) and k by ζ^(−(n−c)/b): scores keep only m − n, centred on the keys', () => {
      const encoding = rope({ xpos: true, xposScaleBase: 16 });
      const q = tensor4(5, [1, 2, 4, 8]);
      const k = tensor4(6, [1, 2, 4, 8]);
      const scoresAt = (offset: number) => {
        const positions = sequencePositions(1, 4, offset);
        const out = encoding.queryKey(
          { q, k, v: k },
          context(positions, positions, { causal: true }),
        );
        const s = tf.tidy(() => tf.matMul(out.q, out.k, false, true).dataSync());
        tf.dispose([out.q, out.k, positions.ids]);
        return s;
      };
      expect(maxAbsDiff(scoresAt(0), scoresAt(300))).toBeLessThan(1e-4);
      // Same as applyRope with the keys' centre ⌊(0 + 3 + 1)/2⌋ = 2.
      const positions = sequencePositions(1, 4);
      const out = encoding.queryKey(
        { q, k, v: k },
        context(positions, positions, { causal: true }),
      );
      const want = applyRope(q, undefined, { xpos: { role: 'query', scaleBase: 16, center: 2 } });
      expect(maxAbsDiff(out.q.dataSync(), want.dataSync())).toBe(0);
      tf.dispose([out.q, out.k, want, positions.ids, q, k]);
      encoding.dispose();
    });

    it('refuses bidirectional and linear attention', () => {
      const encoding = rope({ xpos: true });
      const positions = sequencePositions(1, 3);
      const q = tensor4(7, [1, 2, 3, 8]);
      expect(() => encoding.queryKey({ q, k: q, v: q }, context(positions, positions))).toThrow(
        /xpos on non-causal attention \(layer 0\)/,
      );
      expect(encoding.supports).toEqual(['softmax']);
      const attention = new MultiHeadAttention({
        name: 'a',
        modelDim: 16,
        heads: 2,
        layer: 0,
        kind: 'linear',
        seed: 0,
      });
      const x = tf.zeros([1, 3, 16]) as tf.Tensor3D;
      expect(() => attention.apply(x, { positions, encodings: [encoding], causal: true })).toThrow(
        /encoding 'rope' does not support linear attention/,
      );
      tf.dispose([x, q, positions.ids, ...Object.values(attention.parameters())]);
      encoding.dispose();
    });
  });

  describe.each([false, true])('linear attention (causal: %s)', (causal) => {
    it('rotates the numerator features only (RoFormer Eq. 19)', () => {
      const [n, d] = [5, 4];
      const encoding = rope();
      const ids = [[0.5, 3, 4, 9, 12]];
      const positions = positionsFromIds(ids);
      const q = tensor4(8, [1, 1, n, d]);
      const k = tensor4(9, [1, 1, n, d]);
      const v = tensor4(10, [1, 1, n, 3]);
      const eps = 1e-6;
      const out = linearAttention(q, k, v, {
        encodings: [encoding],
        ctx: context(positions, positions, { kind: 'linear', causal, headDim: d }),
        featureMap: 'elu+1',
        eps,
      });
      // Written out: φ = elu + 1; numerator Σ_j (R_i φ(q_i))·(R_j φ(k_j)) v_j; denominator Σ_j φ(q_i)·φ(k_j).
      const phi = (row: number[]) => row.map((x) => (x > 0 ? x + 1 : Math.exp(x)));
      const qs = q.arraySync()[0]![0]!.map(phi);
      const ks = k.arraySync()[0]![0]!.map(phi);
      const vs = v.arraySync()[0]![0]!;
      const p = ids[0]!;
      const want = qs.map((qi, i) => {
        const numerator = [0, 0, 0];
        let denominator = 0;
        for (let j = 0; j < n; j++) {
          if (causal && j > i) continue;
          const w = dot(referenceRope(qi, p[i]!), referenceRope(ks[j]!, p[j]!));
          vs[j]!.forEach((x, c) => (numerator[c]! += w * x));
          denominator += dot(qi, ks[j]!);
        }
        return numerator.map((x) => x / (denominator + eps));
      });
      expect(maxAbsDiff(out.dataSync(), want.flat())).toBeLessThan(1e-5);
      // q and k themselves are not rotated before the feature map in this mode.
      const untouched = encoding.queryKey(
        { q, k, v },
        context(positions, positions, { kind: 'linear', causal }),
      );
      expect(untouched.q).toBe(q);
      tf.dispose([q, k, v, out, positions.ids]);
      encoding.dispose();
    });
  });

  describe("axial 2D in core's ViT", () => {
    it('rotates grid tokens by row and column, leaves the class token, and trains', () => {
      const encoding = rope();
      const grid = gridPositions(1, 2, 3, 1);
      const q = tensor4(11, [1, 2, 7, 8]);
      const out = encoding.queryKey({ q, k: q, v: q }, context(grid, grid));
      const values = out.q.arraySync()[0]![0]!;
      const original = q.arraySync()[0]![0]!;
      expect(values[0]).toEqual(original[0]); // the class token has no grid position
      const rows = grid.rows.arraySync()[0]!;
      const cols = grid.cols.arraySync()[0]!;
      for (let t = 1; t < 7; t++) {
        // Features 0–3 turn with the row, 4–7 with the column (θ over the axis width 4).
        const want = [
          ...referenceRope(original[t]!.slice(0, 4), rows[t - 1]!),
          ...referenceRope(original[t]!.slice(4, 8), cols[t - 1]!),
        ];
        expect(maxAbsDiff(values[t]!, want)).toBeLessThan(1e-6);
      }
      tf.dispose([q, out.q, out.k, grid.rows, grid.cols]);

      const vit = new ViT(
        { imageSize: 8, patchSize: 4, channels: 1, classes: 2, modelDim: 16, layers: 2, heads: 2 },
        [encoding],
      );
      const images = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
      const labels = tf.tensor1d([0, 1], 'int32');
      const { value, grads } = tf.variableGrads(() => vit.loss(images, labels));
      expect(Number.isFinite(value.dataSync()[0])).toBe(true);
      const wq = vit.parameters()['layers.0.attn.wq.weight']!;
      expect(tf.tidy(() => tf.abs(grads[wq.name]!).max().dataSync()[0])).toBeGreaterThan(0);
      tf.dispose([value, images, labels, ...Object.values(grads)]);
      vit.dispose();
      expect(encoding.cachedTables).toBe(0);
    });

    it('scores depend only on the row and column differences', () => {
      const encoding = rope({ layout: 'half' });
      const q = tensor4(12, [1, 1, 6, 8]);
      const k = tensor4(13, [1, 1, 6, 8]);
      const scoresAt = (rowShift: number, colShift: number) => {
        const base = gridPositions(1, 2, 3);
        const grid = {
          ...base,
          rows: base.rows.add(rowShift) as tf.Tensor2D,
          cols: base.cols.add(colShift) as tf.Tensor2D,
        };
        const out = encoding.queryKey({ q, k, v: k }, context(grid, grid));
        const s = tf.tidy(() => tf.matMul(out.q, out.k, false, true).dataSync());
        tf.dispose([out.q, out.k, base.rows, base.cols, grid.rows, grid.cols]);
        return s;
      };
      expect(maxAbsDiff(scoresAt(0, 0), scoresAt(7, -3))).toBeLessThan(1e-5);
      expect(
        maxAbsDiff(
          scoresAt(0, 0),
          tf.tidy(() => tf.matMul(q, k, false, true).dataSync()),
        ),
      ).toBeGreaterThan(1e-2);
      tf.dispose([q, k]);
      encoding.dispose();
    });
  });

  it('dynamic scaling takes the trained length from the model and the current length from both sides', () => {
    const encoding = rope({ scaling: 'dynamic', factor: 2 });
    encoding.build(testBuildSpec({ layers: 1, heads: 1, headDim: 4, maxPositions: 8, seed: 0 }));
    const queries = positionsFromIds([[30, 31]]);
    const keys = sequencePositions(1, 32);
    const q = tf.tensor4d([1, 0, 0, 0, 1, 0, 0, 0], [1, 1, 2, 4]);
    const k = tf.zeros([1, 1, 32, 4]) as tf.Tensor4D;
    const out = encoding.queryKey({ q, k, v: k }, context(queries, keys, { headDim: 4 }));
    // L = 32 from the keys: base' = 10000·(2·32/8 − 1)^(4/2); pair 0 has θ_0 = 1 whatever the base,
    // so check pair 0 turns by the position, and that applyRope with the same L agrees exactly.
    const want = applyRope(q, [30, 31], {
      scaling: { type: 'dynamic', factor: 2, maxPositions: 8 },
      sequenceLength: 32,
    });
    expect(maxAbsDiff(out.q.dataSync(), want.dataSync())).toBe(0);
    const shorter = applyRope(q, [30, 31], {
      scaling: { type: 'dynamic', factor: 2, maxPositions: 8 },
    });
    expect(maxAbsDiff(out.q.dataSync(), shorter.dataSync())).toBe(0); // q alone gives L = 32 too
    tf.dispose([q, k, out.q, out.k, want, shorter, queries.ids, keys.ids]);
    encoding.dispose();
  });

  it.each([
    ['plain', {}],
    ['xPos', { xpos: true, xposScaleBase: 8 }],
    ['dynamic NTK past the trained length', { scaling: 'dynamic', factor: 2, maxPositions: 4 }],
    ['half layout, partial', { layout: 'half', rotaryDim: 4 }],
  ])(
    'a causal LM continued from a cache gives the logits of the full pass (%s)',
    (_name, config) => {
      const lm = new DecoderLM(
        { vocabSize: 17, modelDim: 16, layers: 2, heads: 2, maxPositions: 32 },
        [rope(config)],
      );
      for (const [name, p] of Object.entries(lm.parameters()))
        if (/\.w[qk]\.weight$/.test(name))
          tf.tidy(() => p.assign(tf.randomNormal(p.shape, 0, 0.6, 'float32', 9)));
      const ids = [
        [3, 1, 4, 1, 5, 9, 2, 6],
        [2, 7, 1, 8, 2, 8, 1, 8],
      ];
      const tokens = tf.tensor2d(ids, [2, 8], 'int32');
      const full = lm.forward(tokens);
      const head = tokens.slice([0, 0], [-1, 5]) as tf.Tensor2D;
      const tail = tokens.slice([0, 5], [-1, 3]) as tf.Tensor2D;
      const first = lm.forward(head);
      const memoryPositions = sequencePositions(2, 5);
      const positions = sequencePositions(2, 3, 5);
      const next = lm.forward(tail, { memories: first.keySources, memoryPositions, positions });
      const want = tf.tidy(() => full.logits.slice([0, 5, 0], [-1, 3, -1]).dataSync());
      expect(maxAbsDiff(next.logits.dataSync(), want)).toBeLessThan(1e-4);
      // The positions are what makes this work: the tail at 0…2 instead of 5…7 gives other logits.
      const wrongPositions = sequencePositions(2, 3);
      const wrong = lm.forward(tail, {
        memories: first.keySources,
        memoryPositions,
        positions: wrongPositions,
      });
      expect(maxAbsDiff(wrong.logits.dataSync(), want)).toBeGreaterThan(1e-3);
      tf.dispose([wrong.logits, ...wrong.keySources, wrongPositions.ids]);
      tf.dispose([
        tokens,
        head,
        tail,
        full.logits,
        ...full.keySources,
        first.logits,
        ...first.keySources,
      ]);
      tf.dispose([next.logits, ...next.keySources, memoryPositions.ids, positions.ids]);
      lm.dispose();
    },
  );
});
