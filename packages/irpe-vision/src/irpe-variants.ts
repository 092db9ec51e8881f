/**
 * Every configuration of iRPE the paper's grid spans — method × mode × where the tables go ×
 * shared or per-head — as named variants of the encoding, so a benchmark lists each as a method
 * of its own (`irpe-cross-bias-qk-unshared`), as the official DETR code names them
 * (`rpe-1.9-product-ctx-1-k`). The default config (contextual product tables on keys, shared by
 * the heads: the paper's recommendation) is the encoding's own row, `irpe`.
 */
import type { EncodingVariant } from '@posenc/core';
import { IRPE_METHODS } from './buckets/bucket-ids.js';
import { IRPE_MODES, IRPE_TARGETS, type IrpeMode, type IrpeTarget } from './irpe-config.js';

export const IRPE_PACKAGE = '@posenc/irpe-vision';

/**
 * The absolute encoding the paper's DeiT keeps beside iRPE: its learned `pos_embed`
 * (`rpe_vision_transformer.py`), which a benchmark of DeiT + iRPE adds to the iRPE rows.
 */
export const PAPER_ABSOLUTE_ENCODING = { name: 'learned' } as const;
export const IRPE_PAPER = 'Wu et al. 2021, arXiv 2107.14222';

const MODE_NAMES: Record<IrpeMode, string> = { bias: 'bias', contextual: 'ctx' };

const METHOD_TITLES = {
  euc: 'Euclidean',
  quant: 'quantization',
  cross: 'cross',
  product: 'product',
} as const;

function describeTargets(on: IrpeTarget): string {
  return [...on].map((t) => ({ q: 'queries', k: 'keys', v: 'values' })[t]).join(', ');
}

export function irpeVariants(): EncodingVariant[] {
  const variants: EncodingVariant[] = [];
  for (const method of IRPE_METHODS)
    for (const mode of IRPE_MODES)
      for (const on of IRPE_TARGETS) {
        if (mode === 'bias' && on.includes('v')) continue;
        for (const sharedHead of [true, false]) {
          if (method === 'product' && mode === 'contextual' && on === 'k' && sharedHead) continue;
          variants.push({
            name: `irpe-${method}-${MODE_NAMES[mode]}-${on}${sharedHead ? '' : '-unshared'}`,
            description: `iRPE, ${METHOD_TITLES[method]} buckets, ${mode} tables on ${describeTargets(on)}, ${sharedHead ? 'shared by the heads' : 'one per head'}`,
            paper: IRPE_PAPER,
            config: { name: 'irpe', method, mode, on, sharedHead },
          });
        }
      }
  return variants;
}
