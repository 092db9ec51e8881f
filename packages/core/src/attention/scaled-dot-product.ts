/**
 * The part of softmax attention that no hook changes: scores, masks, softmax and the weighted
 * sum, on heads `[B,H,N,D]` after the `queryKey` hooks and with the encodings' score biases
 * already summed:
 *
 *   scores = (q·kᵀ)·scale + bias + causalMask(Nq, Nk) + paddingMask(keyValid)   (in this order)
 *   probs = softmax(scores),   output = probs·v
 *
 * Composed of TF.js ops this is six ops forward and about ten backward, each a pass over the
 * `[B,H,Nq,Nk]` scores. An engine may register two kernels to do each direction in one call:
 *
 * - `PosencAttention`: inputs `q` `[B,H,Nq,D]`, `k` `[B,H,Nk,D]`, `v` `[B,H,Nk,Dv]` (float32, the
 *   same B and H), optionally `bias` (float32, broadcastable to `[B,H,Nq,Nk]`) and `keyValid`
 *   (float32 `[B,Nk]`, 1 for a real key, 0 for padding); attributes `scale` and `causal` (the
 *   mask of `masks.ts`: query i sees key i + Nk − Nq and every earlier one), and `biasShape`
 *   (the bias's shape, for the gradient) when there is a bias. Outputs `output` `[B,H,Nq,Dv]` and
 *   `probs` `[B,H,Nq,Nk]`, as above.
 * - `PosencAttentionGrad`: inputs `dy` (of the output), `q`, `k`, `v`, `probs` and optionally
 *   `dProbs` (a gradient reaching the probabilities directly, e.g. through a value bias);
 *   attributes `scale` and, with a bias, `biasShape`. Outputs `dq`, `dk`, `dv` and, with a
 *   bias, `dBias`, the formulas of {@link attentionGradient}.
 *
 * Both compute those formulas in float32 (any summation order).
 */
import { tf } from '../engine/tf.js';
import { activeBackendHas } from '../engine/active-kernel.js';
import { causalMask, causalMaskValues, paddingMask } from './masks.js';

export const ATTENTION_KERNEL = 'PosencAttention';
export const ATTENTION_GRAD_KERNEL = 'PosencAttentionGrad';

export interface AttentionKernelAttrs {
  scale: number;
  causal: boolean;
  /** Present when there is a bias. */
  biasShape?: number[];
}

export interface AttentionGradAttrs {
  scale: number;
  /** Present when there was a bias: `dBias` is summed to this shape. */
  biasShape?: number[];
}

export interface ScaledDotProductOptions {
  /** The summed score biases of the encodings, broadcastable to `[B,H,Nq,Nk]`. */
  bias?: tf.Tensor;
  causal: boolean;
  /** `[B, Nk]`, 1 for real keys and 0 for padding. */
  keyValid?: tf.Tensor2D;
  /** Return the probabilities too (differentiable: a value bias reads them). */
  returnProbs?: boolean;
}

export interface ScaledDotProductResult {
  /** `[B,H,Nq,Dv]` */
  output: tf.Tensor4D;
  /** `[B,H,Nq,Nk]`, when asked for. */
  probs?: tf.Tensor4D;
}

export interface AttentionGradients {
  dq: tf.Tensor4D;
  dk: tf.Tensor4D;
  dv: tf.Tensor4D;
  /** With a bias shape. */
  dBias?: tf.Tensor;
}

/** Whether `shape` broadcasts to `target` (numpy rules, no wider rank). */
function broadcastsTo(shape: readonly number[], target: readonly number[]): boolean {
  const offset = target.length - shape.length;
  return offset >= 0 && shape.every((d, i) => d === 1 || d === target[offset + i]);
}

/** Shapes the kernel contract takes; anything else (broadcast heads, other dtypes) is composed. */
function kernelTakes(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, bias?: tf.Tensor): boolean {
  const [b, h, nq, d] = q.shape;
  const [kb, kh, nk, kd] = k.shape;
  const [vb, vh, vn] = v.shape;
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) return false;
  if ([q, k, v, ...(bias ? [bias] : [])].some((t) => t.dtype !== 'float32')) return false;
  if (kb !== b || vb !== b || kh !== h || vh !== h || vn !== nk || kd !== d) return false;
  return !bias || broadcastsTo(bias.shape, [b, h, nq, nk]);
}

export function scaledDotProductAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  options: ScaledDotProductOptions,
): ScaledDotProductResult {
  const scale = 1 / Math.sqrt(q.shape[3]);
  const { bias, causal, keyValid, returnProbs = false } = options;
  if (!activeBackendHas(ATTENTION_KERNEL) || !kernelTakes(q, k, v, bias))
    return compositeAttention(q, k, v, scale, options);
  // Fails, as the composite path does, for a causal mask with fewer keys than queries.
  if (causal) causalMaskValues(q.shape[2], k.shape[2]);
  return tf.tidy(() => {
    const attrs: AttentionKernelAttrs = { scale, causal, ...(bias && { biasShape: bias.shape }) };
    const inputs: tf.NamedTensorMap = { q, k, v };
    if (bias) inputs['bias'] = bias;
    if (keyValid) inputs['keyValid'] = tf.cast(keyValid, 'float32');
    const run = () =>
      tf.engine().runKernel(ATTENTION_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as [
        tf.Tensor4D,
        tf.Tensor4D,
      ];
    if (returnProbs) {
      // Both outputs on the tape: the kernel's registered gradient takes dy and dProbs.
      const [output, probs] = run();
      return { output, probs } as unknown as tf.TensorContainerObject;
    }
    // The probabilities stay internal: saved for the backward, never a tape output (whose
    // unused gradient TF.js would fill with a zero tensor of [B,H,Nq,Nk]).
    const differentiable = bias ? [q, k, v, bias] : [q, k, v];
    const output = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const save = args[args.length - 1] as tf.GradSaveFunc;
      const [out, probs] = run();
      save([q, k, v, probs!]);
      return {
        value: out!,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sq, sk, sv, sp] = saved as tf.Tensor4D[];
          const g = attentionGradient(dy as tf.Tensor4D, sq!, sk!, sv!, sp!, {
            scale,
            biasShape: attrs.biasShape,
          });
          return g.dBias ? [g.dq, g.dk, g.dv, g.dBias] : [g.dq, g.dk, g.dv];
        },
      };
    })(...differentiable);
    return { output } as unknown as tf.TensorContainerObject;
  }) as unknown as ScaledDotProductResult;
}

function compositeAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  scale: number,
  options: ScaledDotProductOptions,
): ScaledDotProductResult {
  return tf.tidy(() => {
    let scores: tf.Tensor = tf.mul(tf.matMul(q, k, false, true), scale);
    if (options.bias) scores = tf.add(scores, options.bias);
    if (options.causal) scores = tf.add(scores, causalMask(q.shape[2], k.shape[2]));
    if (options.keyValid) scores = tf.add(scores, paddingMask(options.keyValid));
    const probs = tf.softmax(scores) as tf.Tensor4D;
    const output = tf.matMul(probs, v) as tf.Tensor4D;
    return (options.returnProbs
      ? { output, probs }
      : { output }) as unknown as tf.TensorContainerObject;
  }) as unknown as ScaledDotProductResult;
}

/** Sums a full `[B,H,Nq,Nk]` gradient down to the shape a broadcast bias had. */
function sumToShape(full: tf.Tensor, shape: readonly number[]): tf.Tensor {
  const offset = full.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < full.rank; i++)
    if (i < offset || (shape[i - offset] === 1 && full.shape[i] !== 1)) axes.push(i);
  return tf.reshape(axes.length ? tf.sum(full, axes) : full, [...shape]);
}

/**
 * The gradients of `scaledDotProductAttention` for an upstream `dy` of the output (and `dProbs`
 * of the probabilities), given the forward's probabilities P, through the engine's kernel if it
 * has one:
 *
 *   dv = Pᵀ·dy,   dP = dy·vᵀ + dProbs,   dS = dP⊙P − rowsum(dP⊙P)⊙P,
 *   dq = (dS·k)·scale,   dk = (dSᵀ·q)·scale,   dBias = dS summed to the bias's shape
 */
export function attentionGradient(
  dy: tf.Tensor4D,
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  probs: tf.Tensor4D,
  options: AttentionGradAttrs & { dProbs?: tf.Tensor4D },
): AttentionGradients {
  const { dProbs, ...attrs } = options;
  if (activeBackendHas(ATTENTION_GRAD_KERNEL)) {
    const inputs: tf.NamedTensorMap = { dy, q, k, v, probs };
    if (dProbs) inputs['dProbs'] = dProbs;
    const [dq, dk, dv, dBias] = tf
      .engine()
      .runKernel(
        ATTENTION_GRAD_KERNEL,
        inputs,
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor4D[];
    return { dq: dq!, dk: dk!, dv: dv!, ...(dBias && { dBias }) };
  }
  return tf.tidy(() => {
    const dv = tf.matMul(probs, dy, true, false) as tf.Tensor4D;
    let dP: tf.Tensor = tf.matMul(dy, v, false, true);
    if (dProbs) dP = tf.add(dP, dProbs);
    const weighted = tf.mul(dP, probs);
    const dS = tf.sub(weighted, tf.mul(tf.sum(weighted, -1, true), probs));
    const dq = tf.mul(tf.matMul(dS, k), attrs.scale) as tf.Tensor4D;
    const dk = tf.mul(tf.matMul(dS, q, true, false), attrs.scale) as tf.Tensor4D;
    const out: Record<string, tf.Tensor> = { dq, dk, dv };
    if (attrs.biasShape) out['dBias'] = sumToShape(dS, attrs.biasShape);
    return out;
  }) as unknown as AttentionGradients;
}

// The gradient of a direct kernel call (probabilities requested). Only reached when an engine
// has the forward kernel; key validity is a mask, with no gradient of its own.
if (!tf.getGradient(ATTENTION_KERNEL))
  tf.registerGradient({
    kernelName: ATTENTION_KERNEL,
    inputsToSave: ['q', 'k', 'v'],
    outputsToSave: [false, true],
    gradFunc: (dys, saved, attrs) => {
      const [dy, dProbs] = dys as tf.Tensor4D[];
      const [q, k, v, probs] = saved as tf.Tensor4D[];
      const { scale, biasShape } = attrs as unknown as AttentionKernelAttrs;
      const g = attentionGradient(dy!, q!, k!, v!, probs!, { scale, biasShape, dProbs });
      return {
        q: () => g.dq,
        k: () => g.dk,
        v: () => g.dv,
        bias: () => g.dBias!,
        keyValid: () => tf.zeros([q!.shape[0], k!.shape[2]]),
      };
    },
  });
