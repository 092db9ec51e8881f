/**
 * iRPE as a position encoding of core's attention (Wu et al. 2021, microsoft/Cream `iRPE/`):
 * tables on queries and keys add to the logits through `scoreBias`, a table on values adds to
 * the output through `valueBias`, so iRPE composes with an absolute encoding in the same model,
 * as DeiT and DETR keep theirs. In the official `RPEAttention` order:
 *
 *   logits = q·kᵀ/√d + rpe_k + rpe_q;  out = softmax(logits)·v + rpe_v
 *   rpe_k[i,j] = (q_i/√d)·r^K[b(i,j)]       (bias mode: r^K[b(i,j)], a scalar, not scaled)
 *   rpe_q[i,j] = (k_j/√d)·r^Q[b(j,i)]       (the reversed offset: the official code applies
 *                                            rpe_q to the keys and transposes)
 *   rpe_v[i]   = Σ_j α_ij r^V[b(i,j)]
 *
 * One set of tables per layer, under the layer's attention scope (`layers.3.attn.rpe_k
 * .lookup_table_weight`, the official module names); cross has `rp_rows` and `rp_cols` tables.
 */
import {
  normalParameter,
  scopedName,
  supportedAttention,
  tf,
  type EncodingDefinition,
  zerosParameter,
  type AttentionContext,
  type AttentionKind,
  type EncodingBuildSpec,
  type GridShape,
  type PositionEncoding,
} from '@posenc/core';
import {
  bucketFunctionsOf,
  bucketIds,
  tableBuckets,
  type BucketFunction,
} from './buckets/bucket-ids.js';
import { coefficientsOf, type PiecewiseCoefficients } from './buckets/piecewise-index.js';
import { gridOfCall } from './grid-of-call.js';
import { checkIrpeConfig, irpeSchema, targetsOf, type IrpeConfig } from './irpe-config.js';
import { biasScores, bucketProducts, gatherScores, valueTerm } from './irpe-terms.js';
import { IRPE_PACKAGE, IRPE_PAPER, irpeVariants } from './irpe-variants.js';

type Target = 'q' | 'k' | 'v';

/** One lookup table: of one target (q, k, v) of one layer, for one bucket function. */
interface Table {
  readonly fn: BucketFunction;
  readonly name: string;
  readonly variable: tf.Variable;
}

/** How a table is read: bucket ids (bias, queries' transposed) or flat indices (contextual, values). */
type IndexKind = 'ids' | 'ids-transposed' | 'flat' | 'flat-transposed';

export class IrpeEncoding implements PositionEncoding {
  readonly name = 'irpe';
  readonly coefficients: PiecewiseCoefficients;
  readonly scoreBias?: (q: tf.Tensor4D, k: tf.Tensor4D, ctx: AttentionContext) => tf.Tensor;
  readonly valueBias?: (probs: tf.Tensor4D, ctx: AttentionContext) => tf.Tensor4D;
  private layers: Record<Target, Table[]>[] = [];
  /** Whether the tables have the skip tokens' bucket (the model has skip tokens). */
  private skipBucket = false;
  private readonly indices = new Map<string, tf.Tensor1D>();

  constructor(readonly config: IrpeConfig) {
    this.coefficients = coefficientsOf(config.ratio);
    const targets = targetsOf(config);
    if (targets.includes('q') || targets.includes('k'))
      this.scoreBias = (q, k, ctx) => this.scores(q, k, ctx);
    if (targets.includes('v')) this.valueBias = (probs, ctx) => this.values(probs, ctx);
  }

  get supports(): readonly AttentionKind[] {
    return supportedAttention(irpeDefinition, this.config);
  }

  /** Buckets of each table of the method (with the skip tokens' one once built). */
  get bucketCounts(): number[] {
    return bucketFunctionsOf(this.config.method).map((fn) =>
      tableBuckets(fn, this.coefficients, this.skipBucket ? 1 : 0),
    );
  }

  build(spec: EncodingBuildSpec): void {
    this.dispose();
    if (!spec.grid)
      throw new Error(
        'irpe: needs a 2D model: its build spec has no grid (ViT and the DETR-style encoder give one)',
      );
    this.skipBucket = spec.grid.skip > 0;
    const { mode, sharedHead, initStd } = this.config;
    const tables = sharedHead ? 1 : spec.heads;
    const functions = bucketFunctionsOf(this.config.method);
    for (let layer = 0; layer < spec.layers; layer++) {
      const scope = spec.scopes.attention(layer);
      const entry = { q: [], k: [], v: [] } as Record<Target, Table[]>;
      for (const target of targetsOf(this.config))
        for (const fn of functions) {
          const buckets = tableBuckets(fn, this.coefficients, spec.grid.skip);
          const part = functions.length > 1 ? `.rp_${fn === 'cross_rows' ? 'rows' : 'cols'}` : '';
          const leaf = `rpe_${target}${part}.lookup_table_${mode === 'bias' ? 'bias' : 'weight'}`;
          const shape =
            mode === 'bias'
              ? [tables, buckets]
              : target === 'v'
                ? [tables, buckets, spec.headDim]
                : [tables, spec.headDim, buckets];
          const name = scopedName(scope, leaf);
          const variable =
            initStd === 0
              ? zerosParameter(shape)
              : normalParameter(shape, initStd, spec.seed, name);
          entry[target].push({ fn, name, variable });
        }
      this.layers.push(entry);
    }
  }

  parameters(): Record<string, tf.Variable> {
    return Object.fromEntries(
      this.layers.flatMap((entry) =>
        Object.values(entry).flatMap((tables) => tables.map((t) => [t.name, t.variable])),
      ),
    );
  }

  dispose(): void {
    for (const entry of this.layers)
      for (const tables of Object.values(entry)) for (const t of tables) t.variable.dispose();
    this.layers = [];
    for (const index of this.indices.values()) index.dispose();
    this.indices.clear();
  }

  private tablesOf(ctx: AttentionContext): Record<Target, Table[]> {
    const entry = this.layers[ctx.layer];
    if (!entry)
      throw new Error(
        this.layers.length === 0
          ? 'irpe: build(spec) must be called before attention runs'
          : `irpe: layer ${ctx.layer} has no tables; built for ${this.layers.length} layers`,
      );
    return entry;
  }

  private gridOf(ctx: AttentionContext, tokens: number): GridShape {
    const grid = gridOfCall(ctx, tokens);
    if (grid.skip > 0 !== this.skipBucket)
      throw new Error(
        `irpe: the call has ${grid.skip} skip token(s), but the tables were built ${this.skipBucket ? 'with' : 'without'} the skip tokens' bucket (the model's grid decides)`,
      );
    return grid;
  }

  /**
   * The index tensor of a table's bucket function on a grid, made once and kept (hooks run in
   * attention's tidy). The bucket ids themselves are cached per (function, α, β, γ, h, w).
   */
  private index(fn: BucketFunction, kind: IndexKind, grid: GridShape): tf.Tensor1D {
    const key = `${fn}:${kind}:${grid.height}x${grid.width}:${grid.skip}`;
    let index = this.indices.get(key);
    if (index) return index;
    const ids = bucketIds(fn, this.coefficients, grid.height, grid.width, grid.skip);
    const n = grid.skip + grid.height * grid.width;
    const buckets = tableBuckets(fn, this.coefficients, grid.skip);
    const values = new Int32Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const transposed = kind === 'ids-transposed' || kind === 'flat-transposed';
        // Transposed: entry (i, j) reads row j at the offset p_j − p_i (rpe_q, transposed after).
        const [row, col] = transposed ? [j, i] : [i, j];
        const id = ids[row * n + col]!;
        values[i * n + j] = kind === 'ids' || kind === 'ids-transposed' ? id : row * buckets + id;
      }
    index = tf.keep(tf.tensor1d(values, 'int32'));
    this.indices.set(key, index);
    return index;
  }

  private checkHeads(tables: readonly Table[], heads: number): void {
    const own = tables[0]!.variable.shape[0]!;
    if (own !== 1 && own !== heads)
      throw new Error(`irpe: tables of ${own} heads, the attention has ${heads}`);
  }

  private scores(q: tf.Tensor4D, k: tf.Tensor4D, ctx: AttentionContext): tf.Tensor {
    const tokens = q.shape[2];
    if (k.shape[2] !== tokens)
      throw new Error(
        `irpe: ${tokens} queries and ${k.shape[2]} keys; iRPE is self-attention over one grid`,
      );
    const grid = this.gridOf(ctx, tokens);
    const tables = this.tablesOf(ctx);
    const scale = 1 / Math.sqrt(q.shape[3]);
    return tf.tidy(() => {
      const terms: tf.Tensor[] = [];
      for (const [target, x] of [
        ['k', q],
        ['q', k],
      ] as const) {
        const transposed = target === 'q';
        for (const table of tables[target]) {
          this.checkHeads(tables[target], q.shape[1]);
          if (this.config.mode === 'bias') {
            const ids = this.index(table.fn, transposed ? 'ids-transposed' : 'ids', grid);
            terms.push(biasScores(table.variable as tf.Tensor2D, ids, tokens, tokens));
          } else {
            const flat = this.index(table.fn, transposed ? 'flat-transposed' : 'flat', grid);
            const products = bucketProducts(x, table.variable as tf.Tensor3D, scale);
            terms.push(gatherScores(products, flat, tokens, tokens));
          }
        }
      }
      return terms.length === 1 ? terms[0]! : tf.addN(terms);
    });
  }

  private values(probs: tf.Tensor4D, ctx: AttentionContext): tf.Tensor4D {
    const [, heads, queries, keys] = probs.shape;
    if (keys !== queries)
      throw new Error(
        `irpe: ${queries} queries and ${keys} keys; iRPE is self-attention over one grid`,
      );
    const grid = this.gridOf(ctx, queries);
    const tables = this.tablesOf(ctx).v;
    this.checkHeads(tables, heads);
    return tf.tidy(() => {
      const terms = tables.map((table) =>
        valueTerm(probs, this.index(table.fn, 'flat', grid), table.variable as tf.Tensor3D),
      );
      return (terms.length === 1 ? terms[0]! : tf.addN(terms)) as tf.Tensor4D;
    });
  }
}

export const irpeDefinition: EncodingDefinition<typeof irpeSchema> = {
  name: 'irpe',
  description:
    "Image relative position encoding: 2D offsets bucketed by a piecewise index (Euclidean, quantization, cross or product), bias or contextual tables on q, k and/or v; the default is the paper's recommended contextual product table on keys, shared by the heads",
  paper: IRPE_PAPER,
  package: IRPE_PACKAGE,
  schema: irpeSchema,
  variants: irpeVariants(),
  supports: ['softmax'],
  // Buckets are functions of whole-cell offsets on a full grid (see grid-of-call.ts).
  positions: { kinds: ['2d'], fractional: false },
  create: (config) => new IrpeEncoding(checkIrpeConfig(config)),
};
