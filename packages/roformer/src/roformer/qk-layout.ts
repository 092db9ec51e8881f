/**
 * Converting q/k projection weights between the interleaved and half RoPE layouts. Permuting
 * the output features of W_q and W_k (and their biases) within every head by the layout
 * permutation makes a half-layout model compute the same scores as the interleaved one: each
 * rotated pair holds the same two numbers and turns at the same frequency, and q·k is a sum
 * over features in any order. This is what HF's `convert_llama_weights_to_hf.py` `permute`
 * does for Meta's interleaved LLaMA checkpoints (huggingface/transformers#25199). With rotary
 * values the value projection's outputs and the output projection's inputs move too.
 */
import { tf } from '@posenc/core';
import {
  headsLayoutPermutation,
  type LayoutPermutationOptions,
  type RopeLayout,
} from '../rope/layout.js';
import { RoFormer } from './model.js';

/**
 * Where a weight keeps its output features: `last` for ours (`[in, out]`, y = x·W) and for
 * biases, `first` for PyTorch/HF (`[out, in]`, y = x·Wᵀ).
 */
export type FeatureAxis = 'first' | 'last';

export interface ProjectionLayoutOptions extends LayoutPermutationOptions {
  heads: number;
  from: RopeLayout;
  to: RopeLayout;
  /** Axis of the output features; default 'last' (our Linear layout). */
  axis?: FeatureAxis;
}

/** A projection's weight (or bias, rank 1) with its per-head output features in layout `to`. */
export function convertProjectionLayout<T extends tf.Tensor>(
  weight: T,
  options: ProjectionLayoutOptions,
): T {
  const axis = weight.rank === 1 ? 0 : options.axis === 'first' ? 0 : weight.rank - 1;
  const features = weight.shape[axis]!;
  if (features % options.heads !== 0)
    throw new Error(
      `convertProjectionLayout: ${features} output features do not split into heads = ${options.heads}`,
    );
  const perm = headsLayoutPermutation(
    options.heads,
    features / options.heads,
    options.from,
    options.to,
    options,
  );
  return tf.tidy(() => tf.gather(weight, tf.tensor1d(perm, 'int32'), axis)) as T;
}

/** The same for the input features (rows of our `[in, out]` weight): where rotated values enter W_o. */
function convertInputLayout(weight: tf.Tensor, options: ProjectionLayoutOptions): tf.Tensor {
  const perm = headsLayoutPermutation(
    options.heads,
    weight.shape[0]! / options.heads,
    options.from,
    options.to,
    options,
  );
  return tf.tidy(() => tf.gather(weight, tf.tensor1d(perm, 'int32'), 0));
}

/**
 * Our RoFormer parameters with the q/k projections (and v, o with rotary values) converted to
 * layout `to`. Other entries are the same tensors as given.
 */
export function convertRoFormerParameters(
  parameters: Record<string, tf.Tensor>,
  shape: { layers: number; heads: number; rotaryValue: boolean },
  from: RopeLayout,
  to: RopeLayout,
  rotary: LayoutPermutationOptions = {},
): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = { ...parameters };
  const options = { ...rotary, heads: shape.heads, from, to };
  const moved = shape.rotaryValue ? ['wq', 'wk', 'wv'] : ['wq', 'wk'];
  for (let i = 0; i < shape.layers; i++) {
    for (const p of moved)
      for (const kind of ['weight', 'bias']) {
        const name = `layers.${i}.attn.${p}.${kind}`;
        const t = parameters[name];
        if (t) out[name] = convertProjectionLayout(t, options);
        else if (kind === 'weight')
          throw new Error(`convertRoFormerParameters: parameter '${name}' is missing`);
      }
    // Rotated values come out of attention in the value layout: W_o reads them in that order.
    if (shape.rotaryValue) {
      const name = `layers.${i}.attn.wo.weight`;
      if (!parameters[name])
        throw new Error(`convertRoFormerParameters: parameter '${name}' is missing`);
      out[name] = convertInputLayout(parameters[name], options);
    }
  }
  return out;
}

/**
 * A new RoFormer whose rope uses layout `to`, with `model`'s weights converted so that it gives
 * the same outputs. The given model is left as it is.
 */
export function convertRoFormerLayout(model: RoFormer, to: RopeLayout): RoFormer {
  const from = model.rope.config.layout;
  const { headDim, ...config } = model.config;
  const { layers, heads, rotaryValue } = config;
  const { layout: _layout, rotaryValue: _v, ...rope } = model.rope.config;
  const rotaryDim =
    rope.rotaryDim ??
    (rope.partialRotaryFactor !== undefined
      ? Math.floor(headDim * rope.partialRotaryFactor)
      : undefined);
  const converted = new RoFormer({ ...config, rope: { ...withoutUndefined(rope), layout: to } });
  const params = model.parameters();
  const targets = converted.parameters();
  const values = convertRoFormerParameters(params, { layers, heads, rotaryValue }, from, to, {
    rotaryDim,
    startIndex: rope.rotaryStart,
  });
  for (const [name, variable] of Object.entries(targets)) {
    const value = values[name];
    if (!value) throw new Error(`convertRoFormerLayout: no value for parameter '${name}'`);
    variable.assign(value);
    if (value !== params[name]) value.dispose();
  }
  return converted;
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
