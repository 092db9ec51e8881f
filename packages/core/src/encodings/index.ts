/**
 * The reference encodings core ships. Importing this module registers them, so
 * `createEncoding({ name: 'alibi' })` works after `import '@posenc/core'`.
 */
import { registerEncoding } from '../encoding/registry.js';
import { alibiDefinition } from './alibi.js';
import { keyQueryRelativeDefinition } from './key-query-relative.js';
import { learnedDefinition } from './learned-absolute.js';
import { noneDefinition } from './none.js';
import { shawDefinition } from './shaw-relative.js';
import { sinusoidalDefinition } from './sinusoidal.js';
import { t5Definition } from './t5-bias.js';

export * from './alibi.js';
export * from './key-query-relative.js';
export * from './learned-absolute.js';
export * from './none.js';
export * from './shaw-relative.js';
export * from './sinusoidal.js';
export * from './t5-bias.js';

const REFERENCE_DEFINITIONS = [
  noneDefinition,
  sinusoidalDefinition,
  learnedDefinition,
  alibiDefinition,
  t5Definition,
  shawDefinition,
  keyQueryRelativeDefinition,
] as const;

/** Names of the reference encodings, in the order reports list them. */
export const REFERENCE_ENCODING_NAMES: readonly string[] = REFERENCE_DEFINITIONS.map((d) => d.name);

/** Registers the seven reference encodings; safe to call again (same package re-registers). */
export function registerReferenceEncodings(): void {
  for (const definition of REFERENCE_DEFINITIONS)
    registerEncoding(definition as Parameters<typeof registerEncoding>[0]);
}

registerReferenceEncodings();
