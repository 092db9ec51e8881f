import { describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { expectClose, onCpuWithoutLeaks } from '../testing/index.js';
import { AdamW, type AdamWConfig } from './adamw.js';

onCpuWithoutLeaks();

interface ParamSpec {
  name: string;
  shape: number[];
}

const PARAMS: ParamSpec[] = [
  { name: 'layers.0.attn.wq', shape: [2, 3] }, // decayed
  { name: 'layers.0.attn.bias', shape: [3] }, // name and rank exempt it
  { name: 'ln_f.weight', shape: [2, 2] }, // exempt by the `ln…` module pattern, although 2-D
  { name: 'layers.1.norm2.weight', shape: [2, 2] }, // exempt by the `…norm…` module pattern
  { name: 'scale', shape: [] }, // exempt by rank
];
const LRS = [0.1, 0.05, 0.02, 0.07, 0.03, 0.01];

/** Deterministic values of mixed sign and magnitude (a small LCG). */
function values(count: number, seed: number, scale: number): number[] {
  let state = seed;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32 - 0.5) * 2 * scale;
  });
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** A variable that owns its data (no stray initial tensor left behind). */
const variable = (init: () => tf.Tensor) => tf.tidy(() => tf.variable(init()));

/** torch.optim.AdamW in float64, one parameter at a time. */
function referenceAdamW(config: AdamWConfig, decays: (name: string) => boolean) {
  const state = new Map<string, { m: number[]; v: number[] }>();
  let t = 0;
  return (params: Map<string, number[]>, grads: Map<string, number[]>, lr: number) => {
    t++;
    const { beta1, beta2, eps, weightDecay } = config;
    for (const [name, g] of grads) {
      const p = params.get(name)!;
      const s = state.get(name) ?? { m: g.map(() => 0), v: g.map(() => 0) };
      state.set(name, s);
      for (let i = 0; i < p.length; i++) {
        if (decays(name)) p[i]! *= 1 - lr * weightDecay;
        s.m[i] = beta1 * s.m[i]! + (1 - beta1) * g[i]!;
        s.v[i] = beta2 * s.v[i]! + (1 - beta2) * g[i]! * g[i]!;
        const denominator = Math.sqrt(s.v[i]!) / Math.sqrt(1 - beta2 ** t) + eps;
        p[i]! -= ((lr / (1 - beta1 ** t)) * s.m[i]!) / denominator;
      }
    }
  };
}

function runAgainstReference(
  options: ConstructorParameters<typeof AdamW>[0],
  expectedDecay: Record<string, boolean>,
) {
  const optimizer = new AdamW(options);
  for (const { name, shape } of PARAMS)
    expect(optimizer.appliesWeightDecay(name, shape), name).toBe(expectedDecay[name]);

  const initial = new Map(
    PARAMS.map(({ name, shape }, i) => [name, values(size(shape), 100 + i, 1)]),
  );
  const parameters = Object.fromEntries(
    PARAMS.map(({ name, shape }) => [name, variable(() => tf.tensor(initial.get(name)!, shape))]),
  );
  const reference = referenceAdamW(optimizer.config, (name) => expectedDecay[name]!);
  const referenceParams = new Map([...initial].map(([name, v]) => [name, [...v]]));

  LRS.forEach((lr, step) => {
    // Gradients of very different scales per parameter, so the bias correction and eps matter.
    const grads = new Map(
      PARAMS.map(({ name, shape }, i) => [
        name,
        values(size(shape), 1000 * step + i, 10 ** (i - 2)),
      ]),
    );
    const gradTensors = Object.fromEntries(
      PARAMS.map(({ name, shape }) => [name, tf.tensor(grads.get(name)!, shape)]),
    );
    optimizer.applyGradients(parameters, gradTensors, lr);
    tf.dispose(Object.values(gradTensors));
    reference(referenceParams, grads, lr);
    for (const { name } of PARAMS)
      expectClose(
        parameters[name]!.dataSync(),
        referenceParams.get(name)!,
        { atol: 1e-5, rtol: 1e-5 },
        `step ${step} ${name}`,
      );
  });
  expect(optimizer.step).toBe(LRS.length);
  optimizer.dispose();
  tf.dispose(Object.values(parameters));
}

describe('AdamW', () => {
  it('matches a float64 torch-style AdamW without weight decay', () => {
    const noDecay = Object.fromEntries(PARAMS.map(({ name }) => [name, false]));
    runAgainstReference({ weightDecay: 0 }, { ...noDecay, 'layers.0.attn.wq': true });
  });

  it('matches the reference with decoupled weight decay and the default no-decay rule', () => {
    runAgainstReference(
      { weightDecay: 0.1, beta1: 0.8, beta2: 0.95, eps: 1e-6 },
      {
        'layers.0.attn.wq': true,
        'layers.0.attn.bias': false,
        'ln_f.weight': false,
        'layers.1.norm2.weight': false,
        scale: false,
      },
    );
  });

  it('decays every parameter when the no-decay rule is switched off', () => {
    const all = Object.fromEntries(PARAMS.map(({ name }) => [name, true]));
    runAgainstReference({ weightDecay: 0.3, noDecayPatterns: [], noDecayMaxRank: -1 }, all);
  });

  it('applies custom no-decay patterns to full names', () => {
    const optimizer = new AdamW({ noDecayPatterns: ['^embed\\.'], noDecayMaxRank: 0 });
    expect(optimizer.appliesWeightDecay('embed.weight', [10, 4])).toBe(false);
    expect(optimizer.appliesWeightDecay('layers.0.bias', [4])).toBe(true);
    expect(optimizer.appliesWeightDecay('gain', [])).toBe(false);
  });

  it('keeps the tensor count fixed once the moments exist', () => {
    const tensorsBefore = tf.memory().numTensors;
    const parameters = { w: variable(() => tf.ones([3, 2])), b: variable(() => tf.zeros([2])) };
    const grads = { w: tf.fill([3, 2], 0.5), b: tf.fill([2], -0.5) };
    const optimizer = new AdamW();
    optimizer.applyGradients(parameters, grads);
    const afterFirst = tf.memory().numTensors;
    expect(afterFirst).toBe(tensorsBefore + 4 + 4); // parameters + grads, then m and v for each
    for (let i = 0; i < 3; i++) optimizer.applyGradients(parameters, grads);
    expect(tf.memory().numTensors).toBe(afterFirst);
    optimizer.dispose();
    tf.dispose([...Object.values(parameters), ...Object.values(grads)]);
  });

  it('continues identically after exporting and importing its state', () => {
    const make = () => ({
      w: variable(() => tf.tensor([1, -2, 3], [3])),
      v: variable(() => tf.tensor([[0.5, 0.25]])),
    });
    const grad = (k: number) => ({ w: tf.tensor([0.1 * k, -0.2, 0.3]), v: tf.tensor([[k, -k]]) });
    const original = make();
    const optimizer = new AdamW({ weightDecay: 0.05 });
    for (let k = 1; k <= 3; k++) tf.tidy(() => optimizer.applyGradients(original, grad(k), 0.01));

    const copy = make();
    tf.tidy(() => {
      copy.w.assign(original.w);
      copy.v.assign(original.v);
    });
    const exported = optimizer.exportState();
    expect(Object.keys(exported.tensors).sort()).toEqual(['m.v', 'm.w', 'v.v', 'v.w']);
    const restored = new AdamW({ weightDecay: 0.05 });
    restored.importState(exported, copy);
    expect(restored.step).toBe(3);

    for (let k = 4; k <= 6; k++) {
      tf.tidy(() => optimizer.applyGradients(original, grad(k), 0.01));
      tf.tidy(() => restored.applyGradients(copy, grad(k), 0.01));
    }
    expect(Array.from(copy.w.dataSync())).toEqual(Array.from(original.w.dataSync()));
    expect(Array.from(copy.v.dataSync())).toEqual(Array.from(original.v.dataSync()));
    optimizer.dispose();
    restored.dispose();
    tf.dispose([...Object.values(original), ...Object.values(copy)]);
  });

  it('refuses state that does not fit the parameters, listing every problem and changing nothing', () => {
    const parameters = { w: variable(() => tf.zeros([2, 2])) };
    const optimizer = new AdamW();
    const tensors = {
      'm.w': tf.zeros([2, 3]),
      'v.w': tf.zeros([2, 2]),
      'm.gone': tf.zeros([1]),
      junk: tf.zeros([1]),
    };
    expect(() => optimizer.importState({ step: 5, tensors }, parameters)).toThrow(
      /'m\.w' has shape \[2,3\], the parameter \[2,2\][\s\S]*'m\.gone' belongs to no parameter[\s\S]*'junk' is not a moment name[\s\S]*'gone' has m but not v/,
    );
    expect(optimizer.step).toBe(0);
    expect(optimizer.exportState().tensors).toEqual({});
    tf.dispose([...Object.values(parameters), ...Object.values(tensors)]);
  });

  it('rejects a gradient whose shape differs from its parameter instead of broadcasting it', () => {
    const parameters = { w: variable(() => tf.zeros([2, 2])) };
    const grads = { w: tf.zeros([2]) };
    const optimizer = new AdamW();
    expect(() => optimizer.applyGradients(parameters, grads)).toThrow(
      "gradient for 'w' has shape [2], the parameter [2,2]",
    );
    expect(optimizer.step).toBe(0);
    tf.dispose([...Object.values(parameters), ...Object.values(grads)]);
  });

  it('validates its options, naming field, value and what is allowed', () => {
    expect(() => new AdamW({ beta1: 1 })).toThrow(
      "AdamW: field 'beta1' = 1 is not allowed; expected a number ≥ 0 and < 1",
    );
    expect(() => new AdamW({ lr: 0 })).toThrow(
      "field 'lr' = 0 is not allowed; expected a finite number > 0",
    );
    expect(() => new AdamW({ noDecayPatterns: ['('] })).toThrow(
      /field 'noDecayPatterns' = "\(" is not allowed; expected a valid regular expression/,
    );
    expect(() => new AdamW({ momentum: 0.9 } as never)).toThrow(
      "field 'momentum' = 0.9 is not allowed; unknown field",
    );
  });
});
