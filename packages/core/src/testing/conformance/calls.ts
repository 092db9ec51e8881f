/**
 * The attention calls a check makes: hook inputs and a context built from a position sample,
 * owned together and freed together.
 */
import type { AttentionContext } from '../../encoding/position-encoding.js';
import { tf } from '../../engine/tf.js';
import { attentionContext, disposeAttentionContext } from '../attention-context.js';
import {
  BATCH,
  inputTensors,
  lastQueries,
  lastTokens,
  makeHookInputs,
  makePositions,
  QUERIES,
  SIZES,
  tokenCount,
  type CallSettings,
  type HookInputs,
  type PositionSample,
} from './fixtures.js';

/** Seed of every call's inputs: the checks compare calls, so they share inputs. */
const INPUT_SEED = 11;

export interface HookCall {
  readonly inputs: HookInputs;
  readonly ctx: AttentionContext;
}

/**
 * A cached call (the last `QUERIES` tokens against all of a 1D sample: keys lead the queries) or,
 * with `cached` false or a grid, self-attention over every token.
 */
export function makeCall(
  sample: PositionSample,
  settings: CallSettings,
  options: { cached?: boolean } = {},
): HookCall {
  const cached = (options.cached ?? true) && sample.kind === '1d';
  return { inputs: inputsFor(sample, cached), ctx: contextFor(sample, settings, cached) };
}

/** Inputs of `BATCH` rows for a call over `sample` (cached: only its last `QUERIES` queries). */
export function inputsFor(sample: PositionSample, cached = sample.kind === '1d'): HookInputs {
  const full = makeHookInputs(BATCH, tokenCount(sample), INPUT_SEED);
  if (!cached) return full;
  const inputs = lastQueries(full, QUERIES);
  disposeInputs(full);
  return inputs;
}

/** The context of a call over `sample`, the queries being its last `QUERIES` tokens if `cached`. */
export function contextFor(
  sample: PositionSample,
  settings: CallSettings,
  cached: boolean,
): AttentionContext {
  const keys = makePositions(sample);
  return attentionContext({
    queries: cached ? makePositions(lastTokens(sample, QUERIES)) : keys,
    keys,
    heads: SIZES.heads,
    headDim: SIZES.headDim,
    causal: settings.causal,
    layer: settings.layer ?? 0,
    kind: settings.kind,
  });
}

export function disposeCall(call: HookCall): void {
  disposeInputs(call.inputs);
  disposeAttentionContext(call.ctx);
}

export function disposeInputs(inputs: HookInputs): void {
  tf.dispose(inputTensors(inputs));
}

/** Runs `f` on a call and frees the call afterwards, whatever happens. */
export function withCall<T>(call: HookCall, f: (call: HookCall) => T): T {
  try {
    return f(call);
  } finally {
    disposeCall(call);
  }
}
