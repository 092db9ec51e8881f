/**
 * Rows built from the encoding registry: every registered encoding that works in a causal
 * softmax decoder on 1D positions is a row on the standard procedure, and so is every named
 * variant its definition declares (xPos, dynamic NTK). Core's reference encodings and the
 * plugins' encodings are listed the same way, so a new plugin encoding is in the benchmark as
 * soon as its package is in eval's plugin list.
 */
import { createEncoding } from '@posenc/core';
import { checkEncodingConfigs, registryEntries } from '../../../run/registry-rows.js';
import type { LMRow } from './session.js';
import { createModel, standardSession } from './standard-session.js';

/** Every registry entry a causal softmax decoder on 1D positions can use, on the standard procedure. */
export function registryRows(): LMRow[] {
  return registryEntries('softmax', '1d').map(
    ({ name, description, paper, definition, config }): LMRow => ({
      name,
      description,
      paper,
      package: definition.package,
      prepare: async () => {
        checkEncodingConfigs(name, definition.package, [config]);
        return (context) =>
          standardSession(context, createModel(context, [createEncoding(config)]));
      },
    }),
  );
}
