/**
 * Every hook an encoding implements, called once on given inputs, with the shape the contract
 * declares for each output. Hooks are called independently (not chained as in attention), so
 * each sees the same seeded inputs.
 */
import { tf } from '../../engine/tf.js';
import type { AttentionContext, PositionEncoding } from '../../encoding/position-encoding.js';
import { inputTensors, type HookInputs } from './fixtures.js';

export interface HookOutput {
  /** `hook.field`, e.g. `queryKey.k`. */
  readonly name: string;
  readonly tensor: tf.Tensor;
  /** The declared shape; for `scoreBias` the shape it must broadcast to. */
  readonly shape: readonly number[];
  readonly broadcasts: boolean;
  /** Axis along the queries, for outputs of the query side (absent: a key-side output). */
  readonly queryAxis?: number;
}

/** Outputs of every hook for the context's attention kind (embed, projectionInputs and queryKey run for both). */
export function runHooks(
  encoding: PositionEncoding,
  inputs: HookInputs,
  ctx: AttentionContext,
): HookOutput[] {
  const { x, xk, q, k, v, probs, features } = inputs;
  const [batch, heads, nq, dim] = q.shape;
  const nk = k.shape[2];
  const model = x.shape[2];
  const valueDim = v.shape[3];
  const featureDim = features.numeratorQ.shape[3];
  const out: HookOutput[] = [];
  const add = (name: string, tensor: tf.Tensor, shape: number[], queryAxis?: number) =>
    out.push({ name, tensor, shape, broadcasts: name === 'scoreBias', queryAxis });

  if (encoding.embed) add('embed', encoding.embed(x, ctx.queryPositions), [batch, nq, model], 1);
  if (encoding.projectionInputs) {
    const r = encoding.projectionInputs(x, xk, ctx);
    add('projectionInputs.xq', r.xq, [batch, nq, model], 1);
    add('projectionInputs.xk', r.xk, [batch, nk, model]);
  }
  if (encoding.queryKey) {
    const r = encoding.queryKey({ q, k, v }, ctx);
    add('queryKey.q', r.q, [batch, heads, nq, dim], 2);
    add('queryKey.k', r.k, [batch, heads, nk, dim]);
    add('queryKey.v', r.v, [batch, heads, nk, valueDim]);
  }
  if (ctx.kind === 'softmax') {
    if (encoding.scoreBias)
      add('scoreBias', encoding.scoreBias(q, k, ctx), [batch, heads, nq, nk], 2);
    if (encoding.valueBias)
      add('valueBias', encoding.valueBias(probs, ctx), [batch, heads, nq, valueDim], 2);
    return out;
  }
  if (encoding.linearQueryKey) {
    const r = encoding.linearQueryKey(q, k, ctx);
    add('linearQueryKey.q', r.q, [batch, heads, nq, dim], 2);
    add('linearQueryKey.k', r.k, [batch, heads, nk, dim]);
  }
  if (encoding.linearFeatures) {
    const r = encoding.linearFeatures(features, ctx);
    add('linearFeatures.numeratorQ', r.numeratorQ, [batch, heads, nq, featureDim], 2);
    add('linearFeatures.numeratorK', r.numeratorK, [batch, heads, nk, featureDim]);
    add('linearFeatures.denominatorQ', r.denominatorQ, [batch, heads, nq, featureDim], 2);
    add('linearFeatures.denominatorK', r.denominatorK, [batch, heads, nk, featureDim]);
  }
  if (encoding.linearAggregate) {
    const r = encoding.linearAggregate(features, v, ctx);
    add('linearAggregate.numerator', r.numerator, [batch, heads, nq, valueDim], 2);
    add('linearAggregate.denominator', r.denominator, [batch, heads, nq, 1], 2);
  }
  return out;
}

/** Frees the outputs, except those that are inputs passed through (a hook may return its input). */
export function disposeOutputs(outputs: readonly HookOutput[], inputs: HookInputs): void {
  const keep = new Set<tf.Tensor>(inputTensors(inputs));
  tf.dispose([...new Set(outputs.map((o) => o.tensor))].filter((t) => !keep.has(t)));
}

/** Whether `shape` broadcasts to `target` (numpy rules: aligned right, each dimension equal or 1). */
export function broadcastsTo(shape: readonly number[], target: readonly number[]): boolean {
  if (shape.length > target.length) return false;
  const offset = target.length - shape.length;
  return shape.every((d, i) => d === 1 || d === target[offset + i]);
}

/** The output at its declared shape (a broadcast bias expanded), as a new tensor. */
export function expanded(output: HookOutput): tf.Tensor {
  return tf.broadcastTo(output.tensor, [...output.shape]);
}
