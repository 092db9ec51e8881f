/** Checks of the settings, each naming the flag, the value and what is allowed. */
import { UsageError } from '../usage-error.js';
import type { BenchConfig } from './config.js';

/** Longest evaluation length accepted: attention is O(N²) in memory. */
export const MAX_EVAL_LENGTH = 16384;

function integer(flag: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new UsageError(
      `${flag} ${value} is not allowed; expected an integer ≥ ${min}${max < Number.MAX_SAFE_INTEGER ? ` and ≤ ${max}` : ''}`,
    );
}

export function validateConfig(config: BenchConfig): void {
  integer('--train-len', config.trainLength, 2, MAX_EVAL_LENGTH);
  if (config.evalLengths.length === 0)
    throw new UsageError('--eval-lens is empty; give at least one length');
  for (const length of config.evalLengths)
    integer('--eval-lens: length', length, 1, MAX_EVAL_LENGTH);
  integer('--steps', config.steps, 1);
  integer('--batch', config.batch, 1);
  integer('--dim', config.model.modelDim, 1);
  integer('--layers', config.model.layers, 1);
  integer('--heads', config.model.heads, 1);
  integer('--ffn', config.model.ffnDim, 1);
  if (config.model.modelDim % config.model.heads !== 0)
    throw new UsageError(
      `--heads ${config.model.heads} is not allowed; it must divide --dim ${config.model.modelDim}`,
    );
  if (!(Number.isFinite(config.lr) && config.lr > 0))
    throw new UsageError(`--lr ${config.lr} is not allowed; expected a number > 0`);
  integer('--seed', config.seed, 0, 0xffffffff);
  if (config.evalTokens !== 'all') integer('--eval-tokens', config.evalTokens, 1);
  if (!(Number.isFinite(config.strideRatio) && config.strideRatio > 0 && config.strideRatio <= 1))
    throw new UsageError(
      `--stride-ratio ${config.strideRatio} is not allowed; expected a number in (0, 1]`,
    );
  if (config.evalSplit !== 'valid' && config.evalSplit !== 'test')
    throw new UsageError(
      `--eval-split ${JSON.stringify(config.evalSplit)} is not allowed; expected valid or test`,
    );
}
