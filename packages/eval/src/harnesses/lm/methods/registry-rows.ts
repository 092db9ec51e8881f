/**
 * Rows built from the encoding registry: every registered encoding that works in a causal
 * softmax decoder on 1D positions is a row on the standard procedure, and so is every named
 * variant its definition declares (xPos, dynamic NTK). Core's reference encodings and the
 * plugins' encodings are listed the same way, so a new plugin encoding is in the benchmark as
 * soon as its package is in eval's plugin list.
 */
import {
  createEncoding,
  listEncodings,
  type EncodingConfig,
  type EncodingDefinition,
} from '@posenc/core';
import { MethodUnavailableError } from '../../../run/methods.js';
import type { LMRow } from './session.js';
import { createModel, standardSession } from './standard-session.js';

/** Whether the encoding takes 1D sequence positions (a 2D-only image encoding does not). */
function acceptsSequences(definition: EncodingDefinition): boolean {
  const kinds = (definition as { positions?: { kinds?: readonly string[] } }).positions?.kinds;
  return kinds === undefined || kinds.includes('1d');
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
  return listEncodings()
    .filter((d) => d.supports.includes('softmax') && acceptsSequences(d))
    .flatMap((d) => [
      standardRow(d.name, d.description, d.paper, d.package, { name: d.name }),
      ...(d.variants ?? []).map((v) =>
        standardRow(v.name, v.description, v.paper ?? d.paper, d.package, v.config),
      ),
    ]);
}
