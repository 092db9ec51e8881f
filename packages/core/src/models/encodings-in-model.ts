/**
 * What every model does with its list of position encodings: check they fit the attention
 * kind, build their parameters once, expose those parameters, and apply the `embed` hooks.
 */
import { tf } from '../engine/tf.js';
import {
  assertSupports,
  type AttentionKind,
  type EncodingSizes,
  type PositionEncoding,
} from '../encoding/position-encoding.js';
import { MODEL_PARAMETER_SCOPES, type ParameterScopes } from '../encoding/parameter-scopes.js';
import type { Positions } from '../positions/positions.js';
import type { Parameters } from '../nn/layers.js';

/** Checks and builds the encodings of a model; their parameters go under `scopes`. */
export function buildEncodings(
  encodings: readonly PositionEncoding[],
  kind: AttentionKind,
  sizes: EncodingSizes,
  scopes: ParameterScopes = MODEL_PARAMETER_SCOPES,
): void {
  for (const e of encodings) assertSupports(e, kind);
  for (const e of encodings) e.build?.({ ...sizes, scopes });
}

export function encodingParameters(encodings: readonly PositionEncoding[]): Parameters {
  const out: Parameters = {};
  for (const e of encodings) {
    for (const [name, v] of Object.entries(e.parameters?.() ?? {})) {
      if (name in out)
        throw new Error(`encodings '${e.name}' and another both own a parameter named '${name}'`);
      out[name] = v;
    }
  }
  return out;
}

export function embedPositions(
  x: tf.Tensor3D,
  encodings: readonly PositionEncoding[],
  positions: Positions,
): tf.Tensor3D {
  let h = x;
  for (const e of encodings) if (e.embed) h = e.embed(h, positions);
  return h;
}
