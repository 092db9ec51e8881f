/**
 * AdamW (Loshchilov & Hutter 2019) with the exact update order of `torch.optim.AdamW`:
 *
 *   p ← p·(1 − lr·wd)                                (decoupled decay, skipped for no-decay params)
 *   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
 *
 * The moments are tf.Variables created the first time a parameter gets a gradient, so frozen or
 * unused parameters cost nothing. They are exported and imported by name (`m.<param>`,
 * `v.<param>`) for checkpoints. The step count `t` stays a JS number: bias correction needs it
 * on the host every step and a tensor would cost a device read.
 */
import { ConfigError, parseConfig, type ConfigOf, type Schema } from '../config/schema.js';
import { tf } from '../engine/tf.js';
import { activeBackendHas } from '../engine/active-kernel.js';
import type { Gradients } from './clip.js';

/**
 * Parameter names (regular expressions, tested against the full hierarchical name) that get no
 * weight decay: names ending in `bias`, and anything inside a module whose name contains `norm`
 * (`layers.0.norm1.weight`, `final_norm.weight`) or starts with `ln` (`ln_f.weight`).
 * Decaying biases and norm gains only pulls them towards zero with no regularising effect.
 */
export const DEFAULT_NO_DECAY_PATTERNS: readonly string[] = [
  'bias$',
  '(^|\\.)[^.]*norm[^.]*\\.',
  '(^|\\.)ln[^.]*\\.',
];

const ADAMW_SCHEMA = {
  lr: {
    type: 'number',
    greaterThan: 0,
    default: 1e-3,
    doc: 'base learning rate (a schedule multiplies it)',
  },
  beta1: { type: 'number', min: 0, max: 1, default: 0.9, doc: 'first-moment decay, < 1' },
  beta2: { type: 'number', min: 0, max: 1, default: 0.999, doc: 'second-moment decay, < 1' },
  eps: { type: 'number', greaterThan: 0, default: 1e-8, doc: 'added to the denominator' },
  weightDecay: {
    type: 'number',
    min: 0,
    default: 0.01,
    doc: 'decoupled decay coefficient (torch default)',
  },
  noDecayMaxRank: {
    type: 'number',
    integer: true,
    min: -1,
    default: 1,
    doc: 'parameters of rank ≤ this (biases, gains, scalars) get no decay; -1 exempts none by rank',
  },
} as const satisfies Schema;

export type AdamWConfig = ConfigOf<typeof ADAMW_SCHEMA> & {
  /** Regular expression sources; a parameter whose name matches any of them gets no decay. */
  noDecayPatterns: readonly string[];
};
export type AdamWOptions = Partial<AdamWConfig>;

/** Optimizer state by name: `m.<param>` and `v.<param>` tensors, plus the update count. */
export interface OptimizerState {
  step: number;
  tensors: Record<string, tf.Tensor>;
}

export function parseAdamWConfig(options: AdamWOptions, owner = 'AdamW'): AdamWConfig {
  const { noDecayPatterns = DEFAULT_NO_DECAY_PATTERNS, ...numeric } = options;
  const config = parseConfig(owner, ADAMW_SCHEMA, numeric);
  for (const beta of ['beta1', 'beta2'] as const)
    if (config[beta] >= 1)
      throw new ConfigError(owner, beta, config[beta], 'expected a number ≥ 0 and < 1');
  if (!Array.isArray(noDecayPatterns))
    throw new ConfigError(
      owner,
      'noDecayPatterns',
      noDecayPatterns,
      'expected an array of regular-expression strings',
    );
  for (const pattern of noDecayPatterns) {
    try {
      new RegExp(pattern);
    } catch (e) {
      throw new ConfigError(
        owner,
        'noDecayPatterns',
        pattern,
        `expected a valid regular expression (${(e as Error).message})`,
      );
    }
  }
  return { ...config, noDecayPatterns: [...noDecayPatterns] };
}

const MOMENT_KEY = /^([mv])\.(.+)$/;

/**
 * An engine may register this TF.js kernel to update one parameter in one call (inputs `param`,
 * `grad`, `m`, `v`; attributes {@link AdamWUpdateAttrs}; outputs the new param, m and v). It must
 * compute, in float32 and in this order, what the composite update below computes:
 *
 *   m' = m·beta1 + grad·oneMinusBeta1
 *   v' = v·beta2 + grad²·oneMinusBeta2
 *   param' = param·decay − (m' / (√v' / secondMomentCorrection + eps))·stepSize
 *
 * Without it, the update is ~13 TF.js ops per parameter, each allocating its output.
 */
export const ADAMW_UPDATE_KERNEL = 'PosencAdamWUpdate';

export interface AdamWUpdateAttrs {
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  eps: number;
  /** 1 − lr·weightDecay, or 1 for a parameter without decay. */
  decay: number;
  /** lr / (1 − beta1^t). */
  stepSize: number;
  /** √(1 − beta2^t). */
  secondMomentCorrection: number;
}

export class AdamW {
  readonly config: AdamWConfig;
  private readonly noDecay: RegExp[];
  private readonly moments = new Map<string, { m: tf.Variable; v: tf.Variable }>();
  private updates = 0;

  constructor(options: AdamWOptions = {}, owner = 'AdamW') {
    this.config = parseAdamWConfig(options, owner);
    this.noDecay = this.config.noDecayPatterns.map((p) => new RegExp(p));
  }

  /** Number of updates applied so far (`t` of the bias correction is this plus one). */
  get step(): number {
    return this.updates;
  }

  appliesWeightDecay(name: string, shape: readonly number[]): boolean {
    if (shape.length <= this.config.noDecayMaxRank) return false;
    return !this.noDecay.some((re) => re.test(name));
  }

  /**
   * One AdamW update of every parameter that has a gradient; parameters without one are left
   * alone, like torch parameters whose `.grad` is None. Does not dispose `gradients`.
   */
  applyGradients(
    parameters: Readonly<Record<string, tf.Variable>>,
    gradients: Readonly<Gradients>,
    lr = this.config.lr,
  ): void {
    for (const [name, grad] of Object.entries(gradients)) {
      const param = parameters[name];
      if (!param)
        throw new Error(`AdamW: gradient for '${name}', which is not among the parameters`);
      if (!sameShape(param.shape, grad.shape))
        throw new Error(
          `AdamW: gradient for '${name}' has shape [${grad.shape}], the parameter [${param.shape}]`,
        );
    }
    const { beta1, beta2, eps, weightDecay } = this.config;
    const t = ++this.updates;
    const stepSize = lr / (1 - beta1 ** t);
    const secondMomentCorrection = Math.sqrt(1 - beta2 ** t);
    const fused = activeBackendHas(ADAMW_UPDATE_KERNEL);
    for (const [name, grad] of Object.entries(gradients)) {
      const param = parameters[name]!;
      const { m, v } = this.momentsFor(name, param);
      const decay = weightDecay > 0 && this.appliesWeightDecay(name, param.shape);
      if (fused && grad.dtype === 'float32') {
        const attrs: AdamWUpdateAttrs = {
          beta1,
          oneMinusBeta1: 1 - beta1,
          beta2,
          oneMinusBeta2: 1 - beta2,
          eps,
          decay: decay ? 1 - lr * weightDecay : 1,
          stepSize,
          secondMomentCorrection,
        };
        const [nextParam, nextM, nextV] = tf
          .engine()
          .runKernel(
            ADAMW_UPDATE_KERNEL,
            { param, grad, m, v },
            attrs as unknown as tf.NamedAttrMap,
          ) as tf.Tensor[];
        m.assign(nextM!);
        v.assign(nextV!);
        param.assign(nextParam!);
        tf.dispose([nextParam!, nextM!, nextV!]);
        continue;
      }
      tf.tidy(() => {
        const decayed = decay ? tf.mul(param, 1 - lr * weightDecay) : param;
        const nextM = tf.add(tf.mul(m, beta1), tf.mul(grad, 1 - beta1));
        const nextV = tf.add(tf.mul(v, beta2), tf.mul(tf.square(grad), 1 - beta2));
        const denominator = tf.add(tf.div(tf.sqrt(nextV), secondMomentCorrection), eps);
        m.assign(nextM);
        v.assign(nextV);
        param.assign(tf.sub(decayed, tf.mul(tf.div(nextM, denominator), stepSize)));
      });
    }
  }

  /** The live moment variables by name; they stay owned by the optimizer (do not dispose). */
  exportState(): OptimizerState {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [name, { m, v }] of this.moments) {
      tensors[`m.${name}`] = m;
      tensors[`v.${name}`] = v;
    }
    return { step: this.updates, tensors };
  }

  /**
   * Replaces the whole state with `state` (copied; the caller keeps ownership of its tensors).
   * Everything is checked against `parameters` before anything changes, and all problems are
   * listed in one error.
   */
  importState(state: OptimizerState, parameters: Readonly<Record<string, tf.Variable>>): void {
    if (!Number.isInteger(state.step) || state.step < 0)
      throw new Error(`AdamW state: step must be a non-negative integer, got ${state.step}`);
    const problems: string[] = [];
    const byParam = new Map<string, { m?: tf.Tensor; v?: tf.Tensor }>();
    for (const [key, tensor] of Object.entries(state.tensors)) {
      const match = MOMENT_KEY.exec(key);
      if (!match) {
        problems.push(`'${key}' is not a moment name (expected m.<param> or v.<param>)`);
        continue;
      }
      const [, which, name] = match as unknown as [string, 'm' | 'v', string];
      const param = parameters[name];
      if (!param) problems.push(`'${key}' belongs to no parameter of the model`);
      else if (!sameShape(param.shape, tensor.shape))
        problems.push(`'${key}' has shape [${tensor.shape}], the parameter [${param.shape}]`);
      const entry = byParam.get(name) ?? {};
      entry[which] = tensor;
      byParam.set(name, entry);
    }
    for (const [name, entry] of byParam)
      if (!entry.m || !entry.v)
        problems.push(`'${name}' has ${entry.m ? 'm' : 'v'} but not ${entry.m ? 'v' : 'm'}`);
    if (problems.length)
      throw new Error(`AdamW state does not fit the parameters:\n  ${problems.join('\n  ')}`);

    for (const [name, moments] of this.moments) {
      if (byParam.has(name)) continue;
      moments.m.dispose();
      moments.v.dispose();
      this.moments.delete(name);
    }
    for (const [name, entry] of byParam) {
      const { m, v } = this.momentsFor(name, parameters[name]!);
      m.assign(entry.m!);
      v.assign(entry.v!);
    }
    this.updates = state.step;
  }

  /** Frees the moments and returns to step 0. */
  dispose(): void {
    for (const { m, v } of this.moments.values()) {
      m.dispose();
      v.dispose();
    }
    this.moments.clear();
    this.updates = 0;
  }

  private momentsFor(name: string, param: tf.Variable): { m: tf.Variable; v: tf.Variable } {
    let moments = this.moments.get(name);
    if (!moments) {
      moments = tf.tidy(() => ({
        m: tf.variable(tf.zerosLike(param), false),
        v: tf.variable(tf.zerosLike(param), false),
      }));
      this.moments.set(name, moments);
    }
    return moments;
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
