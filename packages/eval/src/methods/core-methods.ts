/**
 * The reference encodings of @posenc/core, each on the standard procedure. Their papers are the
 * ones core's registry cites.
 */
import { createEncoding, getEncodingDefinition, REFERENCE_ENCODING_NAMES } from '@posenc/core';
import type { LMMethod } from './method.js';
import { createModel, standardSession } from './standard-session.js';

export function coreMethods(): LMMethod[] {
  return REFERENCE_ENCODING_NAMES.map((name) => {
    const definition = getEncodingDefinition(name);
    return {
      name,
      description: definition.description,
      paper: definition.paper ?? '—',
      package: definition.package,
      prepare: async () => (context) =>
        standardSession(context, createModel(context, [createEncoding({ name })])),
    };
  });
}
