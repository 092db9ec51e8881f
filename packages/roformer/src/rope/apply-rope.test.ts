import { describe, expect, it } from 'vitest';
import { positionsFromIds, sequencePositions, tf } from '@posenc/core';
import { maxAbsDiff, onCpuWithoutLeaks } from '@posenc/core/testing';
import { random, uniform } from '../testing/random.js';
import { applyRope, type RopeOptions } from './apply-rope.js';
import { AngleTableCache, angleTableValues } from './angle-tables.js';
import { baseInverseFrequencies, ropeFrequencies } from './frequencies.js';
import { layoutPermutation, type RopeLayout } from './layout.js';
import { referenceRope } from '../testing/reference-rope.js';

onCpuWithoutLeaks();

function tensor4(seed: number, shape: [number, number, number, number]): tf.Tensor4D {
  return tf.tensor4d(
    uniform(
      seed,
      shape.reduce((a, b) => a * b),
    ),
    shape,
  );
}

/** Scores q·kᵀ `[B,H,Nq,Nk]` as nested arrays. */
function scores(q: tf.Tensor4D, k: tf.Tensor4D): number[][][][] {
  return tf.tidy(() => tf.matMul(q, k, false, true).arraySync() as number[][][][]);
}

const LAYOUTS: RopeLayout[] = ['interleaved', 'half'];

describe('applyRope', () => {
  it.each(LAYOUTS)(
    'equals the written-out rotation (%s, partial slice, per-row fractional positions)',
    (layout) => {
      const [b, h, n, d] = [2, 2, 5, 16];
      const x = tensor4(1, [b, h, n, d]);
      const next = random(2);
      const positions = Array.from({ length: b }, () =>
        Array.from({ length: n }, () => 200 * next() - 50),
      );
      const y = applyRope(x, positions, { layout, startIndex: 3, rotaryDim: 8, base: 500 });
      const xs = x.arraySync();
      const ys = y.arraySync();
      for (let bi = 0; bi < b; bi++)
        for (let hi = 0; hi < h; hi++)
          for (let ni = 0; ni < n; ni++) {
            const want = referenceRope(xs[bi]![hi]![ni]!, positions[bi]![ni]!, layout, 3, 8, 500);
            expect(maxAbsDiff(ys[bi]![hi]![ni]!, want)).toBeLessThan(1e-6);
          }
      tf.dispose([x, y]);
    },
  );

  describe.each(LAYOUTS)('the score q_m·k_n depends only on m − n (%s)', (layout) => {
    const cases: [string, RopeOptions][] = [
      ['full', { layout }],
      ['partial with a start index', { layout, startIndex: 2, rotaryDim: 10 }],
      ['YaRN-scaled', { layout, scaling: { type: 'yarn', factor: 4, originalMaxPositions: 64 } }],
    ];
    it.each(cases)('%s', (_name, options) => {
      const [nq, nk, d] = [6, 7, 16];
      const q = tensor4(3, [1, 1, nq, d]);
      const k = tensor4(4, [1, 1, nk, d]);
      const next = random(5);
      const m = Array.from({ length: nq }, () => 2000 * next() - 1000);
      const n = Array.from({ length: nk }, () => 2000 * next() - 1000);
      const shift = 12345.25;
      const rotated = (qp: number[], kp: number[]) =>
        tf.tidy(() => scores(applyRope(q, qp, options), applyRope(k, kp, options))[0]![0]!);
      const s = rotated(m, n);
      const shifted = rotated(
        m.map((p) => p + shift),
        n.map((p) => p + shift),
      );
      expect(maxAbsDiff(s.flat(), shifted.flat())).toBeLessThan(2e-5);
      // A function of the difference alone: R_m q · R_n k = a · (R_{m−n} q) · k, where a is the
      // attention factor that scales both sides (1 except YaRN).
      const a = options.scaling
        ? ropeFrequencies({ rotaryDim: options.rotaryDim ?? d, scaling: options.scaling })
            .attentionFactor
        : 1;
      for (let i = 0; i < nq; i++) {
        const row = tf.tidy(() => {
          const qi = q.slice([0, 0, i, 0], [1, 1, 1, d]).tile([1, 1, nk, 1]) as tf.Tensor4D;
          const turned = applyRope(
            qi,
            n.map((p) => m[i]! - p),
            options,
          );
          return Array.from(tf.sum(tf.mul(turned, k), -1).mul(a).dataSync());
        });
        expect(maxAbsDiff(s[i]!, row)).toBeLessThan(2e-5);
      }
      // The rotation changes the scores (positions were not ignored).
      expect(maxAbsDiff(s.flat(), scores(q, k)[0]![0]!.flat())).toBeGreaterThan(1e-2);
      tf.dispose([q, k]);
    });
  });

  it.each(LAYOUTS.map((to) => [to === 'half' ? 'interleaved' : 'half', to] as const))(
    '%s equals %s under the matching permutation of features',
    (from, to) => {
      const [b, h, n, d] = [2, 3, 5, 20];
      const options = { startIndex: 4, rotaryDim: 12 };
      const perm = tf.tensor1d(layoutPermutation(d, from, to, options), 'int32');
      const x = tensor4(6, [b, h, n, d]);
      const positions = [0.5, 3, 17, 250.25, -8];
      const viaFrom = tf.tidy(() =>
        tf.gather(applyRope(x, positions, { ...options, layout: from }), perm, 3).dataSync(),
      );
      const viaTo = tf.tidy(() =>
        applyRope(tf.gather(x, perm, 3) as tf.Tensor4D, positions, {
          ...options,
          layout: to,
        }).dataSync(),
      );
      expect(maxAbsDiff(viaFrom, viaTo)).toBeLessThan(1e-6);
      // Not trivially equal: the two layouts rotate different features of the same vector.
      const sameX = applyRope(x, positions, { ...options, layout: to });
      const other = applyRope(x, positions, { ...options, layout: from });
      expect(maxAbsDiff(sameX.dataSync(), other.dataSync())).toBeGreaterThan(1e-2);
      tf.dispose([perm, x, sameX, other]);
    },
  );

  it('preserves norms and is undone by the inverse rotation', () => {
    const x = tensor4(7, [2, 2, 9, 12]);
    const positions = [
      [...Array(9).keys()].map((i) => i * 37.5),
      [...Array(9).keys()].map((i) => -i),
    ];
    const y = applyRope(x, positions);
    const back = applyRope(y, positions, { inverse: true });
    const norms = (t: tf.Tensor) =>
      tf.tidy(() => Array.from(tf.norm(t, 'euclidean', -1).dataSync()));
    expect(maxAbsDiff(norms(x), norms(y))).toBeLessThan(1e-5);
    expect(maxAbsDiff(back.dataSync(), x.dataSync())).toBeLessThan(1e-5);
    tf.dispose([x, y, back]);
  });

  it('takes positions as arrays, typed arrays, tensors, core positions and an offset alike', () => {
    const x = tensor4(8, [2, 1, 4, 8]);
    const ids = [7, 8, 9, 10];
    const want = tf.tidy(() => applyRope(x, ids).dataSync());
    const ids1 = tf.tensor1d(ids);
    const ids2 = tf.tensor2d([ids, ids]);
    const core = sequencePositions(1, 4, 7);
    const fromIds = positionsFromIds([ids, ids]);
    const inputs = [
      applyRope(x, undefined, { offset: 7 }),
      applyRope(x, [0, 1, 2, 3], { offset: 7 }),
      applyRope(x, Float64Array.from(ids)),
      applyRope(x, [ids, ids]),
      applyRope(x, ids1),
      applyRope(x, ids2),
      applyRope(x, core),
      applyRope(x, fromIds),
    ];
    for (const y of inputs) expect(maxAbsDiff(y.dataSync(), want)).toBe(0);
    tf.dispose([x, ids1, ids2, core.ids, fromIds.ids, ...inputs]);
  });

  it('rotates each batch row at its own positions', () => {
    const x = tensor4(9, [3, 2, 4, 8]);
    const rows = [
      [0, 1, 2, 3],
      [10, 11, 12, 13],
      [5, 5, 0.5, -2],
    ];
    const y = applyRope(x, rows);
    rows.forEach((row, b) => {
      const one = tf.tidy(() =>
        applyRope(x.slice([b, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D, row).dataSync(),
      );
      const got = tf.tidy(() => y.slice([b, 0, 0, 0], [1, -1, -1, -1]).dataSync());
      expect(maxAbsDiff(got, one)).toBe(0);
    });
    tf.dispose([x, y]);
  });

  it('accepts [B,N,D] like [B,1,N,D]', () => {
    const x = tensor4(10, [2, 1, 5, 6]);
    const x3 = x.reshape([2, 5, 6]) as tf.Tensor3D;
    const a = applyRope(x, [1, 2, 3, 4, 5], { layout: 'half' });
    const b = applyRope(x3, [1, 2, 3, 4, 5], { layout: 'half' });
    expect(b.shape).toEqual([2, 5, 6]);
    expect(maxAbsDiff(a.dataSync(), b.dataSync())).toBe(0);
    tf.dispose([x, x3, a, b]);
  });

  it('computes angles in float64: cos/sin stay exact to float32 rounding at position 1e6', () => {
    const position = 1_000_003.7;
    const { cos, sin } = angleTableValues(
      { kind: '1d', rows: 1, length: 1, values: Float64Array.of(position) },
      { inverseFrequencies: baseInverseFrequencies(4), attentionFactor: 1 },
    );
    // θ_0 = 1: the angle is the position itself.
    expect(cos[0]).toBe(Math.fround(Math.cos(position)));
    expect(sin[0]).toBe(Math.fround(Math.sin(position)));
    // What float32 angles would give instead (the position rounds to a multiple of 1/16):
    expect(Math.abs(Math.cos(Math.fround(position)) - Math.cos(position))).toBeGreaterThan(1e-3);
    const x = tf.tensor4d([1, 0, 0, 0], [1, 1, 1, 4]);
    const y = applyRope(x, [position]);
    expect(
      maxAbsDiff(y.dataSync().slice(0, 2), [Math.cos(position), Math.sin(position)]),
    ).toBeLessThan(1e-7);
    tf.dispose([x, y]);
  });

  it('reuses cached tables for the same positions and frees them on dispose', () => {
    const cache = new AngleTableCache(2);
    const x = tensor4(11, [1, 1, 6, 8]);
    const results = [
      applyRope(x, undefined, { cache }),
      applyRope(x, [0, 1, 2, 3, 4, 5], { cache }),
      applyRope(x, [[0, 1, 2, 3, 4, 5]], { cache }),
    ];
    expect(cache.size).toBe(1);
    results.push(
      applyRope(x, undefined, { cache, offset: 1 }),
      applyRope(x, undefined, { cache, base: 99 }),
    );
    expect(cache.size).toBe(2); // capacity 2: the oldest entry was evicted
    results.push(applyRope(x, undefined, { cache }));
    const uncached = applyRope(x);
    expect(maxAbsDiff(results[5]!.dataSync(), uncached.dataSync())).toBe(0);
    expect(maxAbsDiff(results[0]!.dataSync(), uncached.dataSync())).toBe(0);
    tf.dispose([x, uncached, ...results]);
    cache.dispose();
    expect(cache.size).toBe(0);
  });

  it('rejects bad input with the field, the value and what is allowed', () => {
    const x = tensor4(12, [2, 1, 3, 8]);
    expect(() => applyRope(x, undefined, { rotaryDim: 5 })).toThrow(
      /rotaryDim = 5 is not allowed; expected a multiple of 2/,
    );
    expect(() => applyRope(x, undefined, { rotaryDim: 8, startIndex: 2 })).toThrow(
      /does not fit in the 8 features/,
    );
    expect(() => applyRope(x, undefined, { layout: 'neox' as RopeLayout })).toThrow(
      /layout = "neox" is not allowed/,
    );
    expect(() => applyRope(x, [1, 2])).toThrow(/positions cover 2 tokens; x has 3/);
    expect(() =>
      applyRope(x, [
        [1, 2, 3],
        [1, 2, 3],
        [1, 2, 3],
      ]),
    ).toThrow(/positions have 3 rows; x has batch 2/);
    expect(() => applyRope(x, [1, NaN, 3])).toThrow(/position \[0\]\[1\] = NaN is not finite/);
    expect(() => applyRope(x, undefined, { base: 1 })).toThrow(/base = 1 is not allowed/);
    expect(() => applyRope(x, undefined, { scaling: { type: 'linear', factor: 0.5 } })).toThrow(
      /field 'factor' = 0.5 is not allowed; expected a finite number ≥ 1/,
    );
    tf.dispose(x);
  });
});
