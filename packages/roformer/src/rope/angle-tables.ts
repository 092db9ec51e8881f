/**
 * cos/sin tables of the rotation angles m·θ_i, computed in float64 from the positions and only
 * then rounded to float32 (as HF forces float32 angles, transformers#29285, and RoFormer's
 * `create_weight` uses float64 NumPy), plus a small cache so a model's layers and training steps
 * reuse the tables of the positions they share.
 */
import { tf } from '@posenc/core';
import type { AngleTables } from './rotary-kernel.js';
import { hash64, type Coordinates } from './coordinates.js';

/** xPos (Sun et al. 2022): pair p is scaled by ζ_p^(±(position − center)/scaleBase). */
export interface XposPlan {
  /** ζ_p per pair (`xposZeta`). */
  readonly zeta: Float64Array;
  readonly scaleBase: number;
  /** Subtracted from positions before the power; cancels in q·k, keeps the scales in range. */
  readonly center: number;
  /** +1 for queries (ζ^power), −1 for keys (ζ^−power). */
  readonly sign: 1 | -1;
}

/** Everything besides the positions that fixes the tables. */
export interface AnglePlan {
  /** Inverse frequencies of one axis (d_axis/2 values). */
  readonly inverseFrequencies: Float64Array;
  /** Multiplies cos and sin (HF `attention_factor`). */
  readonly attentionFactor: number;
  readonly xpos?: XposPlan;
}

/**
 * ζ_p = (2p + 0.4·d)/(1.4·d) for pair p of a rotary width d: rotary-embedding-torch's
 * `(arange(0, dim, 2) + 0.4 * dim) / (1.4 * dim)`, the paper's (2i/d + γ)/(1 + γ) with γ = 0.4.
 */
export function xposZeta(rotaryDim: number): Float64Array {
  return Float64Array.from(
    { length: rotaryDim / 2 },
    (_, p) => (2 * p + 0.4 * rotaryDim) / (1.4 * rotaryDim),
  );
}

/**
 * Tables `[rows, N, pairs]`. 1D: pair p turns by position·θ_p. 2D (axial): the first half of the
 * pairs turn by row·θ_p, the second half by column·θ_p (rotary-embedding-torch
 * `get_axial_freqs`); skip tokens are not rotated (cos = attention factor, sin = 0).
 */
export function angleTableValues(
  c: Coordinates,
  plan: AnglePlan,
): { cos: Float32Array; sin: Float32Array; pairs: number } {
  const freqs = plan.inverseFrequencies;
  const axisPairs = freqs.length;
  const pairs = c.kind === '1d' ? axisPairs : 2 * axisPairs;
  const cos = new Float32Array(c.rows * c.length * pairs);
  const sin = new Float32Array(cos.length);
  const af = plan.attentionFactor;
  const xpos = plan.xpos;
  if (xpos && xpos.zeta.length !== pairs)
    throw new Error(`rope: xPos has ${xpos.zeta.length} scales for ${pairs} rotated pairs`);
  const put = (at: number, angle: number, scale: number) => {
    cos[at] = Math.cos(angle) * scale;
    sin[at] = Math.sin(angle) * scale;
  };
  for (let r = 0; r < c.rows; r++) {
    for (let n = 0; n < c.length; n++) {
      const at = (r * c.length + n) * pairs;
      if (c.kind === '1d') {
        const position = c.values[r * c.length + n]!;
        const power = xpos ? (xpos.sign * (position - xpos.center)) / xpos.scaleBase : 0;
        for (let p = 0; p < pairs; p++)
          put(at + p, position * freqs[p]!, xpos ? af * Math.pow(xpos.zeta[p]!, power) : af);
      } else if (n < c.skip) {
        for (let p = 0; p < pairs; p++) put(at + p, 0, af);
      } else {
        const g = r * (c.length - c.skip) + (n - c.skip);
        const row = c.row[g]!;
        const col = c.col[g]!;
        for (let p = 0; p < axisPairs; p++) {
          put(at + p, row * freqs[p]!, af);
          put(at + axisPairs + p, col * freqs[p]!, af);
        }
      }
    }
  }
  return { cos, sin, pairs };
}

/** Float32 tensors `[rows, N, pairs]` of the tables. */
export function buildAngleTables(c: Coordinates, plan: AnglePlan): AngleTables {
  const { cos, sin, pairs } = angleTableValues(c, plan);
  const shape: [number, number, number] = [c.rows, c.length, pairs];
  return { cos: tf.tensor3d(cos, shape, 'float32'), sin: tf.tensor3d(sin, shape, 'float32') };
}

export function planKey(plan: AnglePlan): string {
  const x = plan.xpos;
  return `${hash64(plan.inverseFrequencies)}:${plan.attentionFactor}:${x ? `${x.sign}:${x.center}:${x.scaleBase}:${hash64(x.zeta)}` : '-'}`;
}

/**
 * Tables by (positions, plan), least recently used first out. The tensors are `tf.keep`-ed, so
 * the `tf.tidy` around attention does not free them; `dispose()` does. Evicting is safe for
 * gradients: the rotation kernel saves its own references to the tables it used.
 */
export class AngleTableCache {
  private readonly entries = new Map<string, AngleTables>();

  constructor(readonly capacity = 32) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(
        `AngleTableCache: capacity = ${capacity} is not allowed; expected an integer ≥ 1`,
      );
  }

  get size(): number {
    return this.entries.size;
  }

  /** The tables for `key`, built by `build` on a miss. */
  get(key: string, build: () => AngleTables): AngleTables {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const tables = build();
    tf.keep(tables.cos);
    tf.keep(tables.sin);
    this.entries.set(key, tables);
    while (this.entries.size > this.capacity) {
      const [oldest, evicted] = this.entries.entries().next().value as [string, AngleTables];
      this.entries.delete(oldest);
      tf.dispose([evicted.cos, evicted.sin]);
    }
    return tables;
  }

  dispose(): void {
    for (const t of this.entries.values()) tf.dispose([t.cos, t.sin]);
    this.entries.clear();
  }
}
