/**
 * Rows built from the encoding registry: every registered encoding that works in a causal
 * softmax decoder on 1D positions is a row on the standard procedure, and so is every named
 * variant its definition declares (xPos, dynamic NTK). Core's reference encodings and the
 * plugins' encodings are listed the same way, so a new plugin encoding is in the benchmark as
 * soon as its package is in eval's plugin list.
 */
import {
  acceptedPositions,
  createEncoding,
  listEncodings,
  parseConfig,
  supportedAttention,
  type EncodingConfig,
  type EncodingDefinition,
} from '@posenc/core';
import { MethodUnavailableError } from '../../../run/methods.js';
import type { LMRow } from './session.js';
import { createModel, standardSession } from './standard-session.js';

/**
 * Whether an encoding configured so works in the LM decoder: causal softmax attention on 1D
 * positions, as its definition declares for that config (a 2D-only image encoding does not).
 */
function fitsDecoder(definition: EncodingDefinition, config: EncodingConfig): boolean {
  let parsed;
  try {
    parsed = parseConfig(`encoding '${definition.name}'`, definition.schema, config, ['name']);
  } catch {
    // A config its package rejects is still listed, as unavailable, by the row's prepare().
    return true;
  }
  return (
    supportedAttention(definition, parsed).includes('softmax') &&
    acceptedPositions(definition, parsed).kinds.includes('1d')
  );
}

function standardRow(
  name: string,
  description: string,
  paper: string | undefined,
  packageName: string,
  config: EncodingConfig,
): LMRow {
  return {
    name,
    description,
    paper: paper ?? '—',
    package: packageName,
    prepare: async () => {
      try {
        createEncoding(config).dispose?.();
      } catch (e) {
        throw new MethodUnavailableError(
          name,
          `${packageName} rejects ${JSON.stringify(config)}: ${(e as Error).message}`,
        );
      }
      return (context) => standardSession(context, createModel(context, [createEncoding(config)]));
    },
  };
}

/** The registry's rows in registration order (core first, then each plugin as it loaded). */
export function registryRows(): LMRow[] {
  return listEncodings().flatMap((d) =>
    [
      { name: d.name, description: d.description, paper: d.paper, config: { name: d.name } },
      ...(d.variants ?? []).map((v) => ({ ...v, paper: v.paper ?? d.paper })),
    ]
      .filter((row) => fitsDecoder(d, row.config))
      .map((row) => standardRow(row.name, row.description, row.paper, d.package, row.config)),
  );
}
