/**
 * Every case of `shared/golden/rope` (lucidrains/rotary-embedding-torch in float64), read from
 * the files: the options come from each file's `__metadata__.config`.
 */
import { describe, expect, it } from 'vitest';
import { gridPositions, tf } from '@posenc/core';
import {
  goldenCaseFiles,
  goldenEntry,
  goldenTensor,
  goldenValues,
  maxAbsDiff,
  onCpuWithoutLeaks,
  readGoldenCase,
} from '@posenc/core/testing';
import { applyRope, type RopeOptions } from './apply-rope.js';

onCpuWithoutLeaks();

interface LucidrainsConfig {
  ctor: {
    dim: number;
    theta?: number;
    interpolate_factor?: number;
    theta_rescale_factor?: number;
    use_xpos?: boolean;
    xpos_scale_base?: number;
  };
  layout: 'interleaved' | 'half';
  offset?: number;
  grid?: [number, number];
}

/** The `RotaryEmbedding(...)` arguments of a case as our options. */
function optionsFor(config: LucidrainsConfig): RopeOptions {
  const { ctor } = config;
  const axes = config.grid ? 2 : 1;
  const options: { -readonly [K in keyof RopeOptions]: RopeOptions[K] } = {
    layout: config.layout,
    // `dim` is the rotated width per axis; get_axial_freqs concatenates one table per axis.
    rotaryDim: ctor.dim * axes,
  };
  if (ctor.theta !== undefined) options.base = ctor.theta;
  if (config.offset !== undefined) options.offset = config.offset;
  if (ctor.interpolate_factor !== undefined)
    options.scaling = { type: 'linear', factor: ctor.interpolate_factor };
  if (ctor.theta_rescale_factor !== undefined)
    options.scaling = { type: 'ntk', factor: ctor.theta_rescale_factor };
  return options;
}

const TOLERANCE = 1e-5;
const files = goldenCaseFiles('rope');

describe('applyRope matches rotary-embedding-torch (golden)', () => {
  it.each(files)('%s within 1e-5', async (file) => {
    const golden = await readGoldenCase('rope', file);
    const config = golden.config as unknown as LucidrainsConfig;
    const options = optionsFor(config);

    if (config.ctor.use_xpos) {
      const xposBase = { scaleBase: config.ctor.xpos_scale_base ?? 512 };
      for (const [input, expected, role] of [
        ['q', 'expected_q', 'query'],
        ['k', 'expected_k', 'key'],
      ] as const) {
        const x = goldenTensor(goldenEntry(golden, input)) as tf.Tensor4D;
        const y = applyRope(x, undefined, { ...options, xpos: { ...xposBase, role } });
        const want = goldenValues(goldenEntry(golden, expected));
        expect(maxAbsDiff(x.dataSync(), want)).toBeGreaterThan(0.01); // the case is no identity
        expect(maxAbsDiff(y.dataSync(), want)).toBeLessThan(TOLERANCE);
        tf.dispose([x, y]);
      }
    } else if (config.grid) {
      // x is [B, h, w, D]: tokens row-major over the grid, as core's ViT orders patches.
      const [h, w] = config.grid;
      const x4 = goldenTensor(goldenEntry(golden, 'x'));
      const [b, , , d] = x4.shape as [number, number, number, number];
      const x = x4.reshape([b, h * w, d]) as tf.Tensor3D;
      const grid = gridPositions(1, h, w);
      const y = applyRope(x, grid, options);
      const want = goldenValues(goldenEntry(golden, 'expected'));
      expect(maxAbsDiff(x.dataSync(), want)).toBeGreaterThan(0.01);
      expect(maxAbsDiff(y.dataSync(), want)).toBeLessThan(TOLERANCE);
      tf.dispose([x4, x, y, grid.rows, grid.cols]);
    } else {
      const x = goldenTensor(goldenEntry(golden, 'x')) as tf.Tensor4D;
      const positions = golden.entries.has('positions')
        ? goldenValues(goldenEntry(golden, 'positions'))
        : undefined;
      // A case with explicit positions tests what it says only if they are not 0…N−1.
      if (positions) expect([...positions].some((p, i) => p !== i)).toBe(true);
      const y = applyRope(x, positions, options);
      const want = goldenValues(goldenEntry(golden, 'expected'));
      expect(maxAbsDiff(x.dataSync(), want)).toBeGreaterThan(0.01);
      expect(maxAbsDiff(y.dataSync(), want)).toBeLessThan(TOLERANCE);
      tf.dispose([x, y]);
    }
  });
});
