/**
 * HF `RoFormerForMaskedLM.forward` written out in plain JS (float64) from HF-named weights, for
 * tests: if our model, exported with our HF names, gives what this gives, then the names, the
 * transposes and the architecture all match HF's. The rotation is HF's
 * `apply_rotary_position_embeddings` on rows of the `embed_positions` table (sin half | cos half),
 * not our kernel.
 */
import { decodeToFloat32, type TensorEntry } from '@posenc/core';

type Matrix = number[][];

export interface ReferenceConfig {
  heads: number;
  layers: number;
  layerNormEps: number;
  /** 'gelu' = erf GELU, 'gelu_new' = tanh approximation, 'relu'. */
  hiddenAct: string;
  rotaryValue: boolean;
  causal: boolean;
  mlmHead: boolean;
}

export interface ReferenceOutput {
  hidden: Matrix[];
  logits?: Matrix[];
}

/** Abramowitz & Stegun 7.1.26, |error| < 1.5e-7: plenty for a 1e-4 comparison. */
function erf(x: number): number {
  const sign = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-a * a);
  return sign * y;
}

function act(x: number, kind: string): number {
  if (kind === 'gelu') return 0.5 * x * (1 + erf(x / Math.SQRT2));
  if (kind === 'gelu_new')
    return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  return Math.max(0, x);
}

function matrix(entry: TensorEntry): Matrix {
  const values = decodeToFloat32(entry);
  const [rows, cols] = entry.shape.length === 2 ? entry.shape : [1, entry.shape[0]!];
  return Array.from({ length: rows! }, (_, r) =>
    Array.from(values.subarray(r * cols!, (r + 1) * cols!)),
  );
}

/** nn.Linear: y = x·Wᵀ + b with W `[out, in]`. */
function linear(x: Matrix, w: Matrix, b: number[]): Matrix {
  return x.map((row) => w.map((wo, o) => wo.reduce((s, wi, i) => s + wi * row[i]!, b[o]!)));
}

function layerNorm(x: Matrix, g: number[], b: number[], eps: number): Matrix {
  return x.map((row) => {
    const mean = row.reduce((s, v) => s + v, 0) / row.length;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / row.length;
    return row.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * g[i]! + b[i]!);
  });
}

const add = (a: Matrix, b: Matrix): Matrix => a.map((row, i) => row.map((v, j) => v + b[i]![j]!));

/**
 * HF: `sin, cos = sinusoidal_pos.chunk(2)`, `sin_pos = [s0,s0,s1,s1,…]`, `rotate = [−x1,x0,−x3,x2,…]`,
 * `x·cos_pos + rotate·sin_pos`, with the table row of each token's position.
 */
function rotate(x: number[], tableRow: number[]): number[] {
  const half = tableRow.length / 2;
  return x.map((v, j) => {
    const pair = j >> 1;
    const sin = tableRow[pair]!;
    const cos = tableRow[half + pair]!;
    const rotated = j % 2 === 0 ? -x[j + 1]! : x[j - 1]!;
    return v * cos + rotated * sin;
  });
}

/**
 * One sequence: `tokens`, `types` and `mask` (1 real, 0 padding) of length N. `weights` are HF
 * keys (with the `roformer.` prefix when `config.mlmHead`).
 */
export function hfRoFormerReference(
  weights: ReadonlyMap<string, TensorEntry>,
  config: ReferenceConfig,
  tokens: number[],
  types: number[],
  mask: number[],
): { hidden: Matrix; logits?: Matrix } {
  const prefix = config.mlmHead ? 'roformer.' : '';
  const W = (key: string) => {
    const e = weights.get(prefix + key) ?? weights.get(key);
    if (!e) throw new Error(`reference: no weight ${key}`);
    return matrix(e);
  };
  const v = (key: string) => W(key)[0]!;
  const eps = config.layerNormEps;
  const words = W('embeddings.word_embeddings.weight');
  const typeTable = W('embeddings.token_type_embeddings.weight');
  let h: Matrix = tokens.map((t, i) => words[t]!.map((x, j) => x + typeTable[types[i]!]![j]!));
  h = layerNorm(h, v('embeddings.LayerNorm.weight'), v('embeddings.LayerNorm.bias'), eps);
  if (weights.has(prefix + 'embeddings_project.weight'))
    h = linear(h, W('embeddings_project.weight'), v('embeddings_project.bias'));
  const n = tokens.length;
  const hidden = h[0]!.length;
  const d = hidden / config.heads;
  const table = W('encoder.embed_positions.weight');
  for (let l = 0; l < config.layers; l++) {
    const p = `encoder.layer.${l}.`;
    const q = linear(h, W(p + 'attention.self.query.weight'), v(p + 'attention.self.query.bias'));
    const k = linear(h, W(p + 'attention.self.key.weight'), v(p + 'attention.self.key.bias'));
    const val = linear(h, W(p + 'attention.self.value.weight'), v(p + 'attention.self.value.bias'));
    const context: Matrix = Array.from({ length: n }, () => new Array<number>(hidden).fill(0));
    for (let head = 0; head < config.heads; head++) {
      const slice = (m: Matrix, i: number) => m[i]!.slice(head * d, (head + 1) * d);
      const qs = tokensOf(n, (i) => rotate(slice(q, i), table[i]!));
      const ks = tokensOf(n, (i) => rotate(slice(k, i), table[i]!));
      const vs = tokensOf(n, (i) =>
        config.rotaryValue ? rotate(slice(val, i), table[i]!) : slice(val, i),
      );
      for (let i = 0; i < n; i++) {
        const logits = ks.map((kj, j) => {
          const blocked = mask[j] === 0 || (config.causal && j > i);
          return blocked ? -Infinity : kj.reduce((s, x, c) => s + x * qs[i]![c]!, 0) / Math.sqrt(d);
        });
        const top = Math.max(...logits);
        const e = logits.map((x) => Math.exp(x - top));
        const z = e.reduce((s, x) => s + x, 0);
        for (let c = 0; c < d; c++)
          context[i]![head * d + c] = e.reduce((s, w, j) => s + (w / z) * vs[j]![c]!, 0);
      }
    }
    const attended = linear(
      context,
      W(p + 'attention.output.dense.weight'),
      v(p + 'attention.output.dense.bias'),
    );
    h = layerNorm(
      add(attended, h),
      v(p + 'attention.output.LayerNorm.weight'),
      v(p + 'attention.output.LayerNorm.bias'),
      eps,
    );
    const inner = linear(
      h,
      W(p + 'intermediate.dense.weight'),
      v(p + 'intermediate.dense.bias'),
    ).map((row) => row.map((x) => act(x, config.hiddenAct)));
    const out = linear(inner, W(p + 'output.dense.weight'), v(p + 'output.dense.bias'));
    h = layerNorm(
      add(out, h),
      v(p + 'output.LayerNorm.weight'),
      v(p + 'output.LayerNorm.bias'),
      eps,
    );
  }
  if (!config.mlmHead) return { hidden: h };
  let t = linear(
    h,
    matrix(weights.get('cls.predictions.transform.dense.weight')!),
    matrix(weights.get('cls.predictions.transform.dense.bias')!)[0]!,
  );
  t = t.map((row) => row.map((x) => act(x, config.hiddenAct)));
  t = layerNorm(
    t,
    matrix(weights.get('cls.predictions.transform.LayerNorm.weight')!)[0]!,
    matrix(weights.get('cls.predictions.transform.LayerNorm.bias')!)[0]!,
    eps,
  );
  // The decoder is tied to the word embeddings (`[V, E]`, used as nn.Linear weight).
  const logits = linear(t, words, matrix(weights.get('cls.predictions.bias')!)[0]!);
  return { hidden: h, logits };
}

function tokensOf(n: number, f: (i: number) => number[]): Matrix {
  return Array.from({ length: n }, (_, i) => f(i));
}
