/**
 * The few layers a Transformer needs, as thin classes that own their variables under stable
 * hierarchical names (`layers.0.attn.wq.weight`): the names are the safetensors keys.
 */
import { tf } from '../engine/tf.js';
import { EMBEDDING_INIT_STD, normalParameter, onesParameter, zerosParameter } from './init.js';
import { gelu } from './gelu.js';
import { layerNorm } from './layer-norm.js';
import { geluErf } from './gelu-erf.js';

export { gelu, geluErf };

export type Parameters = Record<string, tf.Variable>;

/** Collects `parameters()` of sub-modules into one record, refusing duplicate names. */
export function collectParameters(...modules: { parameters(): Parameters }[]): Parameters {
  const out: Parameters = {};
  for (const m of modules) {
    for (const [name, v] of Object.entries(m.parameters())) {
      if (name in out) throw new Error(`duplicate parameter name '${name}'`);
      out[name] = v;
    }
  }
  return out;
}

export function disposeParameters(params: Parameters): void {
  for (const v of Object.values(params)) v.dispose();
}

/** y = x·W + b with W `[in, out]`, applied to the last axis of any rank. */
export class Linear {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(
    readonly name: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: { bias?: boolean; std?: number; seed: number },
  ) {
    this.weight = normalParameter(
      [inFeatures, outFeatures],
      options.std ?? EMBEDDING_INIT_STD,
      options.seed,
      `${name}.weight`,
    );
    if (options.bias ?? true) this.bias = zerosParameter([outFeatures]);
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const lead = x.shape.slice(0, -1);
      const flat = x.reshape([-1, this.inFeatures]) as tf.Tensor2D;
      const y = this.bias
        ? tf.fused.matMul({ a: flat, b: this.weight as tf.Tensor2D, bias: this.bias })
        : tf.matMul(flat, this.weight as tf.Tensor2D);
      return y.reshape([...lead, this.outFeatures]);
    });
  }

  parameters(): Parameters {
    const p: Parameters = { [`${this.name}.weight`]: this.weight };
    if (this.bias) p[`${this.name}.bias`] = this.bias;
    return p;
  }
}

/** Layer normalisation over the last axis (Ba et al. 2016), eps as in PyTorch's default. */
export class LayerNorm {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    readonly name: string,
    readonly features: number,
    readonly eps = 1e-5,
  ) {
    this.weight = onesParameter([features]);
    this.bias = zerosParameter([features]);
  }

  apply<T extends tf.Tensor>(x: T): T {
    return layerNorm(x, this.weight as tf.Tensor1D, this.bias as tf.Tensor1D, this.eps);
  }

  parameters(): Parameters {
    return { [`${this.name}.weight`]: this.weight, [`${this.name}.bias`]: this.bias };
  }
}

/** A lookup table `[count, dim]`; its gather gradient needs our wasm UnsortedSegmentSum patch. */
export class Embedding {
  readonly weight: tf.Variable;

  constructor(
    readonly name: string,
    readonly count: number,
    readonly dim: number,
    options: { std?: number; seed: number },
  ) {
    this.weight = normalParameter(
      [count, dim],
      options.std ?? EMBEDDING_INIT_STD,
      options.seed,
      `${name}.weight`,
    );
  }

  apply(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.gather(this.weight, ids.toInt()));
  }

  parameters(): Parameters {
    return { [`${this.name}.weight`]: this.weight };
  }
}

/** 'gelu' is the tanh approximation (GPT-2), 'gelu_erf' the exact x·Φ(x) (BERT, RoFormer). */
export type Activation = 'gelu' | 'gelu_erf' | 'relu';

export function activate(x: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case 'gelu':
      return gelu(x);
    case 'gelu_erf':
      return geluErf(x);
    case 'relu':
      return tf.relu(x);
  }
}

/** Dropout with an explicit seed, so a resumed run draws the same masks. Identity when rate is 0. */
export function dropout(x: tf.Tensor, rate: number, seed: number | undefined): tf.Tensor {
  if (rate <= 0 || seed === undefined) return x;
  return tf.tidy(() => {
    const keep = tf.step(tf.sub(tf.randomUniform(x.shape, 0, 1, 'float32', seed), rate));
    return tf.div(tf.mul(x, keep), 1 - rate);
  });
}
