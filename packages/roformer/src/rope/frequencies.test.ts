/**
 * Each scaling against its formula at documented points: the expected values are computed here
 * from the formulas as the papers and HF `modeling_rope_utils.py` state them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@posenc/core';
import { expectClose } from '@posenc/core/testing';
import { applyRope } from './apply-rope.js';
import {
  baseInverseFrequencies,
  ropeFrequencies,
  validateScaling,
  yarnCorrectionRange,
  type RopeScaling,
} from './frequencies.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** θ_i = base^(−2i/d). */
const theta = (i: number, d: number, base = 10000) => base ** ((-2 * i) / d);

/** The formulas in float64: equal to the last bits but for rounding. */
const FORMULA = { rtol: 1e-12 };

describe('RoPE frequencies', () => {
  it('default: θ_0 = 1, θ_i = base^(−2i/d), the last pair is the slowest', () => {
    const f = baseInverseFrequencies(64);
    expect(f.length).toBe(32);
    expect(f[0]).toBe(1);
    expectClose(f[1]!, 10000 ** (-1 / 32), FORMULA);
    expectClose(f[31]!, 10000 ** (-62 / 64), FORMULA);
    expect(ropeFrequencies({ rotaryDim: 64 }).attentionFactor).toBe(1);
  });

  it('linear (position interpolation): every frequency divided by the factor', () => {
    const { inverseFrequencies, attentionFactor } = ropeFrequencies({
      rotaryDim: 64,
      scaling: { type: 'linear', factor: 4 },
    });
    for (const i of [0, 7, 31]) expectClose(inverseFrequencies[i]!, theta(i, 64) / 4, FORMULA);
    expect(attentionFactor).toBe(1);
  });

  it('ntk: base·α^(d/(d−2)), so the fastest pair is unchanged and the slowest is divided by α', () => {
    const d = 64;
    const { inverseFrequencies } = ropeFrequencies({
      rotaryDim: d,
      scaling: { type: 'ntk', factor: 4 },
    });
    const base = 10000 * 4 ** (d / (d - 2));
    for (const i of [0, 10, 31]) expectClose(inverseFrequencies[i]!, theta(i, d, base), FORMULA);
    expect(inverseFrequencies[0]).toBe(1);
    // Pair d/2 − 1 has exponent −(d−2)/d, which turns the rescale into exactly 1/α.
    expectClose(inverseFrequencies[31]!, theta(31, d) / 4, FORMULA);
  });

  it('dynamic: no change up to maxPositions, then base·(f·L/max − (f − 1))^(d/(d−2))', () => {
    const d = 128;
    const scaling: RopeScaling = { type: 'dynamic', factor: 2, maxPositions: 2048 };
    const at = (L: number) =>
      ropeFrequencies({ rotaryDim: d, scaling, sequenceLength: L }).inverseFrequencies;
    for (const L of [1, 1000, 2048]) expect(at(L)).toEqual(baseInverseFrequencies(d));
    // L = 4096: 2·4096/2048 − 1 = 3.
    const grown = 10000 * 3 ** (d / (d - 2));
    for (const i of [1, 30, 63]) expectClose(at(4096)[i]!, theta(i, d, grown), FORMULA);
    // Without a length, the trained length: HF's initial inv_freq.
    expect(ropeFrequencies({ rotaryDim: d, scaling }).inverseFrequencies).toEqual(
      baseInverseFrequencies(d),
    );
  });

  it('dynamic through applyRope: the length is max(position) + 1', () => {
    const d = 8;
    const scaling: RopeScaling = { type: 'dynamic', factor: 2, maxPositions: 16 };
    // The unit vector in pair 1 turns to (cos, sin) of position·θ'_1.
    const x = tf.tensor4d([0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0], [1, 1, 2, d]);
    const y = applyRope(x, [5, 63], { scaling }).arraySync()[0]![0]!;
    const base = 10000 * ((2 * 64) / 16 - 1) ** (d / (d - 2)); // L = 63 + 1
    for (const [row, p] of [
      [0, 5],
      [1, 63],
    ] as const) {
      expect(y[row]![2]!).toBeCloseTo(Math.cos(p * theta(1, d, base)), 6);
      expect(y[row]![3]!).toBeCloseTo(Math.sin(p * theta(1, d, base)), 6);
    }
    tf.dispose([x]);
  });

  describe('yarn', () => {
    // LLaMA-2 7B extended 16× from 4096 (the YaRN paper's setting).
    const d = 128;
    const scaling = { type: 'yarn', factor: 16, originalMaxPositions: 4096 } as const;
    /** Pair index with r full turns over the original length: d·ln(L/(2πr))/(2 ln θ). */
    const correction = (r: number) =>
      (d * Math.log(4096 / (2 * Math.PI * r))) / (2 * Math.log(10000));

    it('keeps the pairs that turn more than β_fast = 32 times, interpolates those under β_slow = 1, ramps between', () => {
      const low = Math.floor(correction(32));
      const high = Math.ceil(correction(1));
      expect([low, high]).toEqual([20, 46]);
      expect(yarnCorrectionRange(d, 10000, scaling)).toEqual([low, high]);
      const { inverseFrequencies: f, attentionFactor } = ropeFrequencies({ rotaryDim: d, scaling });
      for (const i of [0, 10, low]) expectClose(f[i]!, theta(i, d), FORMULA);
      for (const i of [high, 50, 63]) expectClose(f[i]!, theta(i, d) / 16, FORMULA);
      const mid = 33; // ramp (33 − 20)/(46 − 20) = 1/2
      expectClose(f[mid]!, 0.5 * theta(mid, d) + 0.5 * (theta(mid, d) / 16), FORMULA);
      // √(1/t) = 0.1·ln(s) + 1 (YaRN Eq. 22; HF get_mscale).
      expectClose(attentionFactor, 0.1 * Math.log(16) + 1, FORMULA);
    });

    it('without truncation the ramp bounds are the fractional correction dims', () => {
      const range = yarnCorrectionRange(d, 10000, { ...scaling, truncate: false });
      expectClose(range[0], correction(32), FORMULA);
      expectClose(range[1], correction(1), FORMULA);
      const f = ropeFrequencies({
        rotaryDim: d,
        scaling: { ...scaling, truncate: false },
      }).inverseFrequencies;
      const ramp = (30 - range[0]) / (range[1] - range[0]);
      expectClose(f[30]!, (1 - ramp) * theta(30, d) + ramp * (theta(30, d) / 16), FORMULA);
    });

    it('attention factor: an explicit value, or DeepSeek’s mscale ratio', () => {
      const explicit = ropeFrequencies({
        rotaryDim: d,
        scaling: { ...scaling, attentionFactor: 0.9 },
      });
      expect(explicit.attentionFactor).toBe(0.9);
      const ratio = ropeFrequencies({
        rotaryDim: d,
        scaling: { ...scaling, mscale: 1, mscaleAllDim: 0.5 },
      });
      expectClose(
        ratio.attentionFactor,
        (0.1 * Math.log(16) + 1) / (0.05 * Math.log(16) + 1),
        FORMULA,
      );
    });
  });

  it('llama3: high frequencies kept, low divided by the factor, a smooth blend between', () => {
    // Llama 3.1: factor 8, low/high frequency factors 1 and 4, 8192 original positions, θ = 500000.
    const d = 128;
    const base = 500000;
    const scaling = {
      type: 'llama3',
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositions: 8192,
    } as const;
    const f = ropeFrequencies({ rotaryDim: d, base, scaling }).inverseFrequencies;
    const wavelength = (i: number) => (2 * Math.PI) / theta(i, d, base);
    let seen = { high: 0, low: 0, mid: 0 };
    for (let i = 0; i < d / 2; i++) {
      const w = wavelength(i);
      if (w < 8192 / 4) {
        expect(f[i]).toBe(theta(i, d, base));
        seen = { ...seen, high: seen.high + 1 };
      } else if (w > 8192 / 1) {
        expectClose(f[i]!, theta(i, d, base) / 8, FORMULA);
        seen = { ...seen, low: seen.low + 1 };
      } else {
        const smooth = (8192 / w - 1) / (4 - 1);
        expectClose(
          f[i]!,
          (1 - smooth) * (theta(i, d, base) / 8) + smooth * theta(i, d, base),
          FORMULA,
        );
        seen = { ...seen, mid: seen.mid + 1 };
      }
    }
    // All three bands occur for these settings.
    expect(seen.high).toBeGreaterThan(0);
    expect(seen.low).toBeGreaterThan(0);
    expect(seen.mid).toBeGreaterThan(0);
  });

  it('longrope: short factors up to the original length, long factors beyond', () => {
    const d = 8;
    const scaling = {
      type: 'longrope',
      shortFactor: [1, 1.5, 2, 3],
      longFactor: [1, 4, 8, 16],
      originalMaxPositions: 4096,
      factor: 32,
    } as const;
    const short = ropeFrequencies({ rotaryDim: d, scaling, sequenceLength: 4096 });
    const long = ropeFrequencies({ rotaryDim: d, scaling, sequenceLength: 4097 });
    for (let i = 0; i < 4; i++) {
      expectClose(short.inverseFrequencies[i]!, theta(i, d) / scaling.shortFactor[i]!, FORMULA);
      expectClose(long.inverseFrequencies[i]!, theta(i, d) / scaling.longFactor[i]!, FORMULA);
    }
    expectClose(short.attentionFactor, Math.sqrt(1 + Math.log(32) / Math.log(4096)), FORMULA);
  });

  it('rejects bad scalings naming the field, the value and what is allowed', () => {
    expect(() => validateScaling({ type: 'linear', factor: 0.5 })).toThrow(
      /'factor' = 0.5 is not allowed; expected a finite number ≥ 1/,
    );
    expect(() => validateScaling({ type: 'dynamic', factor: 2, maxPositions: 1.5 })).toThrow(
      /'maxPositions' = 1.5/,
    );
    expect(() =>
      validateScaling({
        type: 'yarn',
        factor: 2,
        originalMaxPositions: 64,
        betaFast: 1,
        betaSlow: 2,
      }),
    ).toThrow(/'betaFast' = 1 is not allowed; it must be ≥ betaSlow = 2/);
    expect(() =>
      validateScaling({
        type: 'llama3',
        factor: 8,
        lowFreqFactor: 4,
        highFreqFactor: 1,
        originalMaxPositions: 8192,
      }),
    ).toThrow(/'highFreqFactor' = 1 is not allowed/);
    expect(() =>
      ropeFrequencies({
        rotaryDim: 8,
        scaling: {
          type: 'longrope',
          shortFactor: [1, 1],
          longFactor: [1, 1, 1, 1],
          originalMaxPositions: 8,
        },
      }),
    ).toThrow(/'shortFactor' has 2 factors; expected rotaryDim\/2 = 4/);
    expect(() => validateScaling({ type: 'cubic', factor: 2 } as unknown as RopeScaling)).toThrow(
      /'type' = "cubic" is not allowed; expected one of linear, ntk, dynamic, yarn, llama3, longrope/,
    );
    expect(() => baseInverseFrequencies(7)).toThrow(
      /rotaryDim = 7 is not allowed; expected an even integer/,
    );
  });
});
