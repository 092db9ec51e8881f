/**
 * Runs a decoder trained at Lt at r·Lt: a copy of the model whose learned absolute position
 * table (`embed.position_table`, core's `learned` encoding) is interpolated to r times its rows,
 * every other weight copied unchanged. The original model is left as it was.
 */
import {
  createEncoding,
  DecoderLM,
  POSITION_TABLE_NAME,
  tf,
  type PositionEncoding,
} from '@posenc/core';
import { interpolatePositionTable } from './interpolate-table.js';

export interface ExtendOptions {
  /**
   * Fresh encodings for the new model (same kinds as the old). Default: each old encoding
   * re-created from the registry by its name and `config`.
   */
  encodings?: PositionEncoding[];
}

export function extendPositionTable(
  model: DecoderLM,
  r: number,
  options: ExtendOptions = {},
): DecoderLM {
  const who = 'extendPositionTable';
  if (!Number.isInteger(r) || r < 1)
    throw new Error(`${who}: r = ${r} is not allowed; expected an integer ≥ 1`);
  const old = model.parameters();
  const table = old[POSITION_TABLE_NAME];
  if (!table)
    throw new Error(
      `${who}: the model has no '${POSITION_TABLE_NAME}' parameter (a learned absolute encoding); its encodings are ${model.encodings.map((e) => e.name).join(', ') || '(none)'}`,
    );
  const encodings =
    options.encodings ??
    model.encodings.map((e) => {
      const config = (e as { config?: Record<string, unknown> }).config;
      if (!config || typeof config !== 'object')
        throw new Error(
          `${who}: encoding '${e.name}' exposes no config to re-create it from; pass options.encodings`,
        );
      return createEncoding({ ...config, name: e.name });
    });
  const extended = new DecoderLM({ ...model.config, maxPositions: table.shape[0] * r }, encodings);
  try {
    const fresh = extended.parameters();
    const missing = Object.keys(old).filter((name) => !(name in fresh));
    const extra = Object.keys(fresh).filter((name) => !(name in old));
    if (missing.length > 0 || extra.length > 0)
      throw new Error(
        `${who}: the extended model's parameters differ from the original's (missing: ${missing.join(', ') || 'none'}; extra: ${extra.join(', ') || 'none'})`,
      );
    for (const [name, variable] of Object.entries(fresh)) {
      if (name === POSITION_TABLE_NAME) {
        tf.tidy(() => variable.assign(interpolatePositionTable(table as tf.Tensor2D, r)));
        continue;
      }
      const source = old[name]!;
      if (source.shape.join() !== variable.shape.join())
        throw new Error(
          `${who}: parameter '${name}' is [${source.shape}] in the original, [${variable.shape}] in the copy`,
        );
      variable.assign(source);
    }
  } catch (e) {
    extended.dispose();
    throw e;
  }
  return extended;
}
