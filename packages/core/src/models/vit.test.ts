import { describe, it, expect, beforeAll } from 'vitest';
import { tf } from '../engine/tf.js';
import type { PositionEncoding } from '../encoding/position-encoding.js';
import type { GridPositions, Positions } from '../positions/positions.js';
import { createEncoding } from '../encoding/registry.js';
import '../encodings/index.js';
import { patchify, ViT, type ViTConfig } from './vit.js';

const DIM = 8;
const tiny: ViTConfig = {
  imageSize: 8,
  patchSize: 2,
  channels: 3,
  classes: 3,
  modelDim: DIM,
  layers: 2,
  heads: 2,
  ffnDim: 16,
};

/** Inverse of `patchify`, written independently: `[B, R·C, p·p·ch]` → `[B, R·p, C·p, ch]`. */
function unpatchify(patches: tf.Tensor3D, rows: number, cols: number, p: number): tf.Tensor4D {
  const [b, , features] = patches.shape;
  const channels = features / (p * p);
  return tf.tidy(() =>
    patches
      .reshape([b, rows, cols, p, p, channels])
      .transpose([0, 1, 3, 2, 4, 5])
      .reshape([b, rows * p, cols * p, channels]),
  ) as tf.Tensor4D;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

function randomImages(batch: number, h: number, w: number, seed: number): tf.Tensor4D {
  return tf.randomNormal([batch, h, w, 3], 0, 1, 'float32', seed) as tf.Tensor4D;
}

interface Recorded {
  embedInput?: number[][][];
  embedPositions?: Positions['kind'];
  query?: {
    kind: Positions['kind'];
    rows: number[][];
    cols: number[][];
    skip: number;
    height?: number;
    width?: number;
  };
}

/** Test-only encoding that records what the ViT hands to the hooks and changes nothing. */
function recorder(recorded: Recorded): PositionEncoding {
  return {
    name: 'test-recorder',
    config: {},
    supports: ['softmax'],
    embed: (x, positions) => {
      recorded.embedInput = x.arraySync();
      recorded.embedPositions = positions.kind;
      return x;
    },
    scoreBias: (_q, _k, ctx) => {
      const p = ctx.queryPositions as GridPositions;
      recorded.query = {
        kind: p.kind,
        rows: p.rows.arraySync(),
        cols: p.cols.arraySync(),
        skip: p.skip,
        height: p.height,
        width: p.width,
      };
      return tf.zeros([1, 1, 1, 1]);
    },
  };
}

/** Test-only learnable 2D absolute encoding: patch at (r, c) gets r·u + c·v; skip tokens get nothing. */
function learnedGridEmbedding(): PositionEncoding {
  let u: tf.Variable | undefined;
  let v: tf.Variable | undefined;
  return {
    name: 'test-grid',
    config: {},
    supports: ['softmax', 'linear'],
    build: (spec) => {
      u = tf.variable(tf.randomNormal([spec.modelDim], 0, 0.5, 'float32', 1), true);
      v = tf.variable(tf.randomNormal([spec.modelDim], 0, 0.5, 'float32', 2), true);
    },
    parameters: () => ({ 'test.row': u!, 'test.col': v! }),
    dispose: () => tf.dispose([u!, v!]),
    embed: (x, positions) =>
      tf.tidy(() => {
        const p = positions as GridPositions;
        const grid = tf.add(tf.mul(p.rows.expandDims(2), u!), tf.mul(p.cols.expandDims(2), v!));
        const skipped = tf.zeros([x.shape[0], p.skip, x.shape[2]]);
        return tf.add(x, tf.concat([skipped, grid], 1)) as tf.Tensor3D;
      }),
  };
}

describe('ViT', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('patchify is the exact inverse of unpatchify and matches explicit pixel indexing', () => {
    const p = 2;
    const images = randomImages(2, 6, 4, 7);
    const patches = patchify(images, p);
    expect(patches.shape).toEqual([2, 3 * 2, p * p * 3]);
    const restored = unpatchify(patches, 3, 2, p);
    expect(maxAbsDiff(restored, images)).toBe(0);
    const pixels = images.arraySync();
    const rows = patches.arraySync();
    for (let b = 0; b < 2; b++)
      for (let r = 0; r < 3; r++)
        for (let c = 0; c < 2; c++)
          for (let i = 0; i < p; i++)
            for (let j = 0; j < p; j++)
              for (let ch = 0; ch < 3; ch++)
                expect(rows[b]![r * 2 + c]![(i * p + j) * 3 + ch]).toBe(
                  pixels[b]![r * p + i]![c * p + j]![ch],
                );
    expect(() => patchify(images, 4)).toThrow(/6×4 is not a multiple of patchSize = 4/);
    tf.dispose([images, patches, restored]);
  });

  it('gives logits [B,K], hidden [B,1+patches,C] and probabilities per layer', () => {
    const vit = new ViT(tiny, []);
    const images = randomImages(2, 8, 8, 1);
    const { logits, hidden, probs } = vit.forward(images, { returnProbs: true });
    expect(logits.shape).toEqual([2, 3]);
    expect(hidden.shape).toEqual([2, 1 + 16, DIM]);
    expect(probs!.map((p) => p.shape)).toEqual([
      [2, 2, 17, 17],
      [2, 2, 17, 17],
    ]);
    const mean = new ViT({ ...tiny, pooling: 'mean' }, []);
    const meanOut = mean.forward(images);
    expect(meanOut.hidden.shape).toEqual([2, 16, DIM]);
    expect(Object.keys(mean.parameters())).not.toContain('cls_token');
    tf.dispose([images, logits, hidden, ...probs!, meanOut.logits, meanOut.hidden]);
    vit.dispose();
    mean.dispose();
  });

  it('puts the class token at index 0, patches after it in row-major order, and reads the head from it', () => {
    const recorded: Recorded = {};
    const vit = new ViT(tiny, [recorder(recorded)]);
    const params = vit.parameters();
    const images = randomImages(2, 8, 8, 3);
    const { logits, hidden } = vit.forward(images);

    const embedded = tf.tensor3d(recorded.embedInput!);
    const classToken = params['cls_token']!.reshape([1, 1, DIM]);
    const projectedPatches = tf.add(
      tf.matMul(patchify(images, 2).reshape([-1, 12]), params['patch_embed.proj.weight']!),
      params['patch_embed.proj.bias']!,
    );
    expect(maxAbsDiff(embedded.slice([0, 0, 0], [-1, 1, -1]), tf.tile(classToken, [2, 1, 1]))).toBe(
      0,
    );
    expect(
      maxAbsDiff(embedded.slice([0, 1, 0], [-1, -1, -1]), projectedPatches.reshape([2, 16, DIM])),
    ).toBeLessThan(1e-6);

    const fromToken0 = tf.add(
      tf.matMul(hidden.slice([0, 0, 0], [-1, 1, -1]).reshape([2, DIM]), params['head.weight']!),
      params['head.bias']!,
    );
    expect(maxAbsDiff(logits, fromToken0)).toBeLessThan(1e-6);
    tf.dispose([images, logits, hidden, embedded, classToken, projectedPatches, fromToken0]);
    vit.dispose();
  });

  it('mean pooling reads the head from the mean over patches', () => {
    const vit = new ViT({ ...tiny, pooling: 'mean' }, []);
    const params = vit.parameters();
    const images = randomImages(1, 8, 8, 4);
    const { logits, hidden } = vit.forward(images);
    const fromMean = tf.add(
      tf.matMul(tf.mean(hidden, 1), params['head.weight']!),
      params['head.bias']!,
    );
    expect(maxAbsDiff(logits, fromMean)).toBeLessThan(1e-6);
    tf.dispose([images, logits, hidden, fromMean]);
    vit.dispose();
  });

  for (const [pooling, skip] of [
    ['class', 1],
    ['mean', 0],
  ] as const) {
    it(`hands 2D grid positions (skip ${skip}) to the encodings, for any image size (${pooling} pooling)`, () => {
      const recorded: Recorded = {};
      const vit = new ViT({ ...tiny, pooling }, [recorder(recorded)]);
      for (const [h, w] of [
        [8, 8],
        [4, 6],
      ] as const) {
        const images = randomImages(2, h, w, 5);
        const { logits, hidden } = vit.forward(images);
        const rows = h / 2;
        const cols = w / 2;
        const expectedRows = Array.from({ length: rows * cols }, (_, i) => Math.floor(i / cols));
        const expectedCols = Array.from({ length: rows * cols }, (_, i) => i % cols);
        expect(recorded.embedPositions).toBe('2d');
        expect(recorded.query).toEqual({
          kind: '2d',
          rows: [expectedRows, expectedRows],
          cols: [expectedCols, expectedCols],
          skip,
          height: rows,
          width: cols,
        });
        expect(hidden.shape).toEqual([2, skip + rows * cols, DIM]);
        tf.dispose([images, logits, hidden]);
      }
      vit.dispose();
    });
  }

  it('a distillation token is a second skip token with a head of its own; logits are the mean of both heads', () => {
    const recorded: Recorded = {};
    const vit = new ViT({ ...tiny, distillationToken: true }, [recorder(recorded)]);
    expect(vit.skipTokens).toBe(2);
    const params = vit.parameters();
    expect(Object.keys(params)).toEqual(expect.arrayContaining(['dist_token', 'head_dist.weight']));
    const images = randomImages(2, 8, 8, 12);
    const { logits, hidden } = vit.forward(images);
    expect(recorded.query!.skip).toBe(2);
    expect(hidden.shape).toEqual([2, 2 + 16, DIM]);
    expect(
      maxAbsDiff(
        tf.tensor3d(recorded.embedInput!).slice([0, 1, 0], [-1, 1, -1]),
        tf.tile(params['dist_token']!, [2, 1, 1]),
      ),
    ).toBe(0);
    const head = (i: number, name: string) =>
      tf.add(
        tf.matMul(
          hidden.slice([0, i, 0], [-1, 1, -1]).reshape([2, DIM]),
          params[`${name}.weight`]!,
        ),
        params[`${name}.bias`]!,
      );
    const mean = tf.div(tf.add(head(0, 'head'), head(1, 'head_dist')), 2);
    expect(maxAbsDiff(logits, mean)).toBeLessThan(1e-6);
    expect(() => new ViT({ ...tiny, pooling: 'mean', distillationToken: true }, [])).toThrow(
      /'distillationToken' = true.*needs pooling 'class'/,
    );
    tf.dispose([images, logits, hidden, mean]);
    vit.dispose();
  });

  it("core's learned and sinusoidal encodings give the ViT 2D positions, at its image size and others", () => {
    for (const encoding of [
      createEncoding({ name: 'learned' }),
      createEncoding({ name: 'sinusoidal' }),
    ]) {
      const vit = new ViT({ ...tiny, distillationToken: true }, [encoding]);
      if (encoding.name === 'learned')
        expect(vit.parameters()['embed.position_table']!.shape).toEqual([2 + 16, DIM]);
      for (const [h, w] of [
        [8, 8],
        [12, 10],
      ] as const) {
        const images = randomImages(2, h, w, 13);
        const labels = tf.tensor1d([0, 1], 'int32');
        const { value, grads } = tf.variableGrads(
          () => vit.loss(images, labels),
          Object.values(vit.parameters()),
        );
        expect(Number.isFinite(value.dataSync()[0])).toBe(true);
        tf.dispose([value, ...Object.values(grads), images, labels]);
      }
      vit.dispose();
    }
  });

  it('without position encodings it cannot tell where patches are; a 2D encoding can', () => {
    const images = randomImages(1, 8, 8, 6);
    // Move whole patches around: patch rows reversed, so the set of patches is unchanged.
    const shuffled = unpatchify(
      patchify(images, 2).reshape([1, 4, 4, 12]).reverse(1).reshape([1, 16, 12]) as tf.Tensor3D,
      4,
      4,
      2,
    );
    const logitsChange = (vit: ViT) =>
      tf.tidy(() => maxAbsDiff(vit.forward(images).logits, vit.forward(shuffled).logits));
    for (const pooling of ['class', 'mean'] as const) {
      const blind = new ViT({ ...tiny, pooling }, []);
      const positional = new ViT({ ...tiny, pooling }, [learnedGridEmbedding()]);
      expect(logitsChange(blind)).toBeLessThan(1e-5);
      expect(logitsChange(positional)).toBeGreaterThan(1e-4);
      blind.dispose();
      positional.dispose();
    }
    tf.dispose([images, shuffled]);
  });

  it('gradients reach every parameter: patch projection, class token, layers, head and encodings', () => {
    const vit = new ViT({ ...tiny, dropout: 0.1 }, [learnedGridEmbedding()]);
    const params = vit.parameters();
    expect(Object.keys(params)).toEqual(
      expect.arrayContaining([
        'cls_token',
        'patch_embed.proj.weight',
        'final_norm.weight',
        'head.weight',
        'test.row',
      ]),
    );
    const images = randomImages(2, 8, 8, 8);
    const labels = tf.tensor1d([0, 2], 'int32');
    const { value, grads } = tf.variableGrads(
      () => vit.loss(images, labels, { training: true, dropoutSeed: 5 }),
      Object.values(params),
    );
    for (const [name, v] of Object.entries(params)) {
      const g = grads[v.name];
      expect(g, `gradient of ${name}`).toBeDefined();
      const values = g!.dataSync();
      expect(values.every(Number.isFinite), `finite gradient of ${name}`).toBe(true);
      expect(
        values.some((x) => x !== 0),
        `non-zero gradient of ${name}`,
      ).toBe(true);
    }
    tf.dispose([value, ...Object.values(grads), images, labels]);
    vit.dispose();
  });

  it('a few steps of plain SGD reduce the loss on a fixed batch', () => {
    const vit = new ViT(tiny, [learnedGridEmbedding()]);
    const images = randomImages(4, 8, 8, 9);
    const labels = tf.tensor1d([0, 1, 2, 1], 'int32');
    const lossValue = () => tf.tidy(() => vit.loss(images, labels).dataSync()[0]!);
    const initial = lossValue();
    const optimizer = tf.train.sgd(0.1);
    const variables = Object.values(vit.parameters());
    for (let step = 0; step < 8; step++)
      optimizer.minimize(() => vit.loss(images, labels), false, variables);
    expect(lossValue()).toBeLessThan(0.97 * initial);
    optimizer.dispose();
    tf.dispose([images, labels]);
    vit.dispose();
  });

  it('leaks no tensors over a forward and backward pass', () => {
    for (const pooling of ['class', 'mean'] as const) {
      const vit = new ViT({ ...tiny, pooling }, [learnedGridEmbedding()]);
      const images = randomImages(2, 4, 6, 10);
      const labels = tf.tensor1d([1, 2], 'int32');
      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(
        () => vit.loss(images, labels),
        Object.values(vit.parameters()),
      );
      tf.dispose([value, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([images, labels]);
      vit.dispose();
    }
  });

  it('rejects bad configs and images with messages naming the field', () => {
    expect(() => new ViT({ ...tiny, imageSize: 9 }, [])).toThrow(
      /'imageSize' = 9.*multiple of patchSize = 2/,
    );
    expect(() => new ViT({ ...tiny, heads: 3 }, [])).toThrow(/'heads' = 3.*modelDim = 8/);
    expect(() => new ViT({ ...tiny, pooling: 'max' as 'mean' }, [])).toThrow(/'pooling' = "max"/);
    expect(() => new ViT({ ...tiny, classes: undefined } as unknown as ViTConfig, [])).toThrow(
      /'classes'.*required/,
    );
    expect(() => new ViT({ ...tiny, patchSize: 0 }, [])).toThrow(/'patchSize' = 0/);
    const vit = new ViT(tiny, []);
    const odd = randomImages(1, 8, 7, 11);
    const gray = tf.zeros([1, 8, 8, 1]) as tf.Tensor4D;
    expect(() => vit.forward(odd)).toThrow(/8×7 is not a multiple of patchSize = 2/);
    expect(() => vit.forward(gray)).toThrow(/channels = 3/);
    tf.dispose([odd, gray]);
    vit.dispose();
  });
  it("init 'xavier' draws every linear map's weights Glorot-uniform and leaves tokens, norms, biases and encodings as 'timm' makes them", () => {
    const wide = { ...tiny, modelDim: 32, ffnDim: 64, heads: 4 };
    const timm = new ViT(wide, [createEncoding({ name: 'learned' })]);
    const xavier = new ViT({ ...wide, init: 'xavier' }, [createEncoding({ name: 'learned' })]);
    const [a, b] = [timm.parameters(), xavier.parameters()];
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    const linear = Object.keys(b).filter((n) => n.endsWith('.weight') && b[n]!.rank === 2);
    // patch projection, q/k/v/o and the FFN's two maps per layer, the head
    expect(linear.length).toBe(1 + wide.layers * 6 + 1);
    for (const [name, w] of Object.entries(b)) {
      const values = w.dataSync();
      if (!linear.includes(name)) {
        expect(maxAbsDiff(w, a[name]!), name).toBe(0);
        continue;
      }
      const [fanIn, fanOut] = w.shape as [number, number];
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      let sumSq = 0;
      for (const v of values) {
        expect(Math.abs(v), name).toBeLessThanOrEqual(limit);
        sumSq += v * v;
      }
      // U(±l) has std l/√3, far from timm's 0.02 at these widths.
      expect(Math.sqrt(sumSq / values.length), name).toBeCloseTo(limit / Math.sqrt(3), 1);
    }
    timm.dispose();
    xavier.dispose();
  });
});
