/**
 * The settings of an iRPE encoding, as the official `get_rpe_config(ratio, method, mode,
 * shared_head, skip, rpe_on)` takes them; `skip` comes from the model (its build spec's grid)
 * rather than the config, so the table has the skip tokens' bucket exactly when the model has
 * skip tokens.
 */
import { ConfigError, type ConfigOf, type Schema } from '@posenc/core';
import { IRPE_METHODS } from './buckets/bucket-ids.js';

/** Where the tables attach: any non-empty subset of queries, keys and values. */
export const IRPE_TARGETS = ['k', 'q', 'v', 'qk', 'qv', 'kv', 'qkv'] as const;
export type IrpeTarget = (typeof IRPE_TARGETS)[number];

export const IRPE_MODES = ['bias', 'contextual'] as const;
export type IrpeMode = (typeof IRPE_MODES)[number];

export const irpeSchema = {
  method: {
    type: 'enum',
    values: IRPE_METHODS,
    default: 'product',
    doc: "bucket function of the 2D offset: 'euc' (Euclidean distance), 'quant' (squared distance), 'cross' (row and column tables, summed), 'product' (one bucket per (row, column) offset pair)",
  },
  mode: {
    type: 'enum',
    values: IRPE_MODES,
    default: 'contextual',
    doc: "'bias': a scalar per bucket and head, added to the logits after the 1/√d scaling; 'contextual': a vector per bucket, q·r (keys), k·r (queries), Σα·r (values)",
  },
  on: {
    type: 'enum',
    values: IRPE_TARGETS,
    default: 'k',
    doc: 'the tables: on queries, keys and/or values (bias mode has none on values)',
  },
  sharedHead: {
    type: 'boolean',
    default: true,
    doc: 'one table for all heads (the paper default) or one per head',
  },
  ratio: {
    type: 'number',
    greaterThan: 0,
    max: 1000,
    default: 1.9,
    doc: "α = ratio, β = 2·ratio, γ = 8·ratio of the piecewise index; 1.9 gives the paper's 7×7 (+1) product buckets",
  },
  initStd: {
    type: 'number',
    min: 0,
    default: 0,
    doc: 'std of the tables at initialisation; 0 = zeros, as the official DeiT code (the model starts as its baseline)',
  },
} as const satisfies Schema;

export type IrpeConfig = ConfigOf<typeof irpeSchema>;

/** The tables the config asks for, in the official order (q, k, v). */
export function targetsOf(config: IrpeConfig): ('q' | 'k' | 'v')[] {
  return (['q', 'k', 'v'] as const).filter((t) => config.on.includes(t));
}

/** The checks across fields that the schema cannot state. */
export function checkIrpeConfig(config: IrpeConfig): IrpeConfig {
  if (config.mode === 'bias' && config.on.includes('v'))
    throw new ConfigError(
      "encoding 'irpe'",
      'on',
      config.on,
      "bias mode has no table on values (the official code raises NotImplementedError); use mode 'contextual' or leave v out",
    );
  return config;
}
