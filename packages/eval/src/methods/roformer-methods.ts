/**
 * Rows from @posenc/roformer, each on the standard procedure:
 * - `rope`: rotary embeddings (Su et al. 2021), interleaved pairs, θ = 10000;
 * - `xpos`: RoPE with xPos's exponential decay (Sun et al. 2022, arXiv 2212.10554);
 * - `rope+dynamic`: RoPE trained as `rope`, evaluated with dynamic NTK scaling (factor 2), which
 *   raises the base only for inputs longer than the training length (HF
 *   `_compute_dynamic_ntk_parameters`): the training-free extension many LLaMA users apply.
 */
import { createEncoding, type EncodingConfig } from '@posenc/core';
import type { LMMethod } from './method.js';
import { MethodUnavailableError } from './method.js';
import { importPlugin, requireEncoding } from './plugin-import.js';
import { createModel, standardSession } from './standard-session.js';

const PACKAGE = '@posenc/roformer';

interface RopeRow {
  name: string;
  description: string;
  paper: string;
  encoding: EncodingConfig;
}

export const ROPE_ROWS: readonly RopeRow[] = [
  {
    name: 'rope',
    description: 'rotary position embedding: q and k rotated by position, so q·k depends on m − n',
    paper: 'Su et al. 2021, arXiv 2104.09864',
    encoding: { name: 'rope' },
  },
  {
    name: 'xpos',
    description: 'RoPE with an exponential decay of q·k with distance (xPos, scale base 512)',
    paper: 'Sun et al. 2022, arXiv 2212.10554',
    encoding: { name: 'rope', xpos: true },
  },
  {
    name: 'rope+dynamic',
    description:
      'RoPE with dynamic NTK scaling (factor 2): the base grows for inputs longer than the training length',
    paper: 'Su et al. 2021; dynamic NTK (bloc97, emozilla 2023) as in HF modeling_rope_utils',
    encoding: { name: 'rope', scaling: 'dynamic', factor: 2 },
  },
];

export function roformerMethods(): LMMethod[] {
  return ROPE_ROWS.map((row) => ({
    name: row.name,
    description: row.description,
    paper: row.paper,
    package: PACKAGE,
    prepare: async () => {
      await importPlugin(row.name, PACKAGE);
      requireEncoding(row.name, PACKAGE, row.encoding.name);
      try {
        createEncoding(row.encoding).dispose?.();
      } catch (e) {
        throw new MethodUnavailableError(
          row.name,
          `${PACKAGE} rejects ${JSON.stringify(row.encoding)}: ${(e as Error).message}`,
        );
      }
      return (context) =>
        standardSession(context, createModel(context, [createEncoding(row.encoding)]));
    },
  }));
}
