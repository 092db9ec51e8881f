/**
 * Rotation frequencies of RoPE and the scalings for longer context, in float64.
 *
 * The base frequencies are RoFormer's θ_i = base^(−2i/d) for pair i of a rotary width d (Su et
 * al. 2021, Eq. 15). Every scaling follows the function of the same name in Hugging Face
 * transformers `src/transformers/modeling_rope_utils.py` (read at 8b-is/transformers@07dc0bab,
 * an up-to-date fork), except `ntk`, the fixed NTK-aware base rescale, which follows
 * lucidrains/rotary-embedding-torch (`theta_rescale_factor`). Each returns the inverse
 * frequencies and HF's `attention_factor`, the factor cos and sin are multiplied by.
 */

/** Position interpolation (Chen et al. 2023; /u/kaiokendev): every frequency divided by `factor`. */
export interface LinearScaling {
  readonly type: 'linear';
  readonly factor: number;
}

/** NTK-aware fixed rescale (/u/bloc97): base·factor^(d/(d−2)), as rotary-embedding-torch. */
export interface NtkScaling {
  readonly type: 'ntk';
  readonly factor: number;
}

/**
 * Dynamic NTK (/u/bloc97, /u/emozilla; HF `_compute_dynamic_ntk_parameters`): the base grows with
 * the current length L once it passes `maxPositions`: base·(factor·L/maxPositions − (factor−1))^(d/(d−2)).
 */
export interface DynamicScaling {
  readonly type: 'dynamic';
  readonly factor: number;
  /** HF `max_position_embeddings`: the length the model was trained at. */
  readonly maxPositions: number;
}

/** YaRN (Peng et al. 2023, arXiv 2309.00071; HF `_compute_yarn_parameters`). */
export interface YarnScaling {
  readonly type: 'yarn';
  readonly factor: number;
  readonly originalMaxPositions: number;
  /** Rotations above which a pair is extrapolated (kept); default 32. */
  readonly betaFast?: number;
  /** Rotations below which a pair is interpolated (divided by factor); default 1. */
  readonly betaSlow?: number;
  /** Floor/ceil the ramp bounds to whole pairs, as HF by default; default true. */
  readonly truncate?: boolean;
  /** Overrides the attention factor; default 0.1·ln(factor) + 1 (or the mscale ratio). */
  readonly attentionFactor?: number;
  /** DeepSeek's mscale/mscale_all_dim: attention factor = mscale(f, mscale)/mscale(f, mscaleAllDim). */
  readonly mscale?: number;
  readonly mscaleAllDim?: number;
}

/** Llama 3.1 frequency smoothing (HF `_compute_llama3_parameters`). */
export interface Llama3Scaling {
  readonly type: 'llama3';
  readonly factor: number;
  readonly lowFreqFactor: number;
  readonly highFreqFactor: number;
  readonly originalMaxPositions: number;
}

/** LongRoPE (Phi-3; HF `_compute_longrope_parameters`): per-pair factors, short or long by length. */
export interface LongRopeScaling {
  readonly type: 'longrope';
  /** d/2 factors used while the length is ≤ `originalMaxPositions`. */
  readonly shortFactor: readonly number[];
  /** d/2 factors used beyond it. */
  readonly longFactor: readonly number[];
  readonly originalMaxPositions: number;
  /** Context extension ratio, for the default attention factor; default 1. */
  readonly factor?: number;
  /** Overrides the attention factor; default √(1 + ln(factor)/ln(originalMaxPositions)). */
  readonly attentionFactor?: number;
}

export type RopeScaling =
  LinearScaling | NtkScaling | DynamicScaling | YarnScaling | Llama3Scaling | LongRopeScaling;

export const ROPE_SCALING_TYPES = [
  'linear',
  'ntk',
  'dynamic',
  'yarn',
  'llama3',
  'longrope',
] as const;

export interface FrequencyOptions {
  /** Rotated features d (even); there are d/2 frequencies. */
  readonly rotaryDim: number;
  /** θ (`rope_theta`); default 10000. */
  readonly base?: number;
  readonly scaling?: RopeScaling;
  /**
   * Current sequence length, for `dynamic` and `longrope` (HF uses max(position_ids) + 1).
   * Defaults to the trained length, i.e. no dynamic growth.
   */
  readonly sequenceLength?: number;
}

export interface RopeFrequencies {
  /** d/2 inverse frequencies, float64. */
  readonly inverseFrequencies: Float64Array;
  /** Multiplies cos and sin (HF `attention_factor`); 1 except for yarn and longrope. */
  readonly attentionFactor: number;
}

/** θ_i = base^(−2i/d), i = 0 … d/2−1 (RoFormer Eq. 15). */
export function baseInverseFrequencies(rotaryDim: number, base = 10000): Float64Array {
  assertRotaryDim(rotaryDim, 'baseInverseFrequencies');
  assertPositive('base', base, 'baseInverseFrequencies');
  return Float64Array.from({ length: rotaryDim / 2 }, (_, i) =>
    Math.pow(base, (-2 * i) / rotaryDim),
  );
}

/** Inverse frequencies and attention factor for a rotary width, base and optional scaling. */
export function ropeFrequencies(options: FrequencyOptions): RopeFrequencies {
  const { rotaryDim, base = 10000, scaling } = options;
  const inverse = baseInverseFrequencies(rotaryDim, base);
  if (!scaling) return { inverseFrequencies: inverse, attentionFactor: 1 };
  validateScaling(scaling, rotaryDim);
  switch (scaling.type) {
    case 'linear':
      // HF divides inv_freq; rotary-embedding-torch divides positions: the same angles.
      return { inverseFrequencies: inverse.map((f) => f / scaling.factor), attentionFactor: 1 };
    case 'ntk':
      return {
        inverseFrequencies: baseInverseFrequencies(
          rotaryDim,
          ntkBase(base, scaling.factor, rotaryDim),
        ),
        attentionFactor: 1,
      };
    case 'dynamic': {
      const length = Math.max(options.sequenceLength ?? scaling.maxPositions, scaling.maxPositions);
      const grown =
        base *
        Math.pow(
          (scaling.factor * length) / scaling.maxPositions - (scaling.factor - 1),
          rotaryDim / (rotaryDim - 2),
        );
      return { inverseFrequencies: baseInverseFrequencies(rotaryDim, grown), attentionFactor: 1 };
    }
    case 'yarn':
      return yarnFrequencies(rotaryDim, base, scaling);
    case 'llama3':
      return { inverseFrequencies: llama3Frequencies(inverse, scaling), attentionFactor: 1 };
    case 'longrope':
      return longRopeFrequencies(rotaryDim, base, scaling, options.sequenceLength);
  }
}

/** rotary-embedding-torch: `theta *= theta_rescale_factor ** (dim / (dim - 2))` when dim > 2. */
export function ntkBase(base: number, factor: number, rotaryDim: number): number {
  return rotaryDim > 2 ? base * Math.pow(factor, rotaryDim / (rotaryDim - 2)) : base;
}

/** YaRN's default attention factor √(1/t) = 0.1·mscale·ln(s) + 1, and 1 for s ≤ 1 (HF `get_mscale`). */
export function yarnMscale(factor: number, mscale = 1): number {
  return factor <= 1 ? 1 : 0.1 * mscale * Math.log(factor) + 1;
}

/**
 * The pair index (fractional) whose wavelength makes `rotations` full turns over `maxPositions`:
 * d·ln(L/(2π·r)) / (2·ln θ) (HF `find_correction_dim`).
 */
export function yarnCorrectionDim(
  rotations: number,
  rotaryDim: number,
  base: number,
  maxPositions: number,
): number {
  return (rotaryDim * Math.log(maxPositions / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
}

/** HF `find_correction_range`: [low, high] pair bounds of the ramp, clamped to [0, d−1]. */
export function yarnCorrectionRange(
  rotaryDim: number,
  base: number,
  scaling: Pick<YarnScaling, 'betaFast' | 'betaSlow' | 'truncate' | 'originalMaxPositions'>,
): [number, number] {
  let low = yarnCorrectionDim(
    scaling.betaFast ?? 32,
    rotaryDim,
    base,
    scaling.originalMaxPositions,
  );
  let high = yarnCorrectionDim(
    scaling.betaSlow ?? 1,
    rotaryDim,
    base,
    scaling.originalMaxPositions,
  );
  if (scaling.truncate ?? true) {
    low = Math.floor(low);
    high = Math.ceil(high);
  }
  return [Math.max(low, 0), Math.min(high, rotaryDim - 1)];
}

function yarnFrequencies(rotaryDim: number, base: number, scaling: YarnScaling): RopeFrequencies {
  const { factor } = scaling;
  const extrapolation = baseInverseFrequencies(rotaryDim, base);
  const [low, rawHigh] = yarnCorrectionRange(rotaryDim, base, scaling);
  // HF `linear_ramp_factor`: a degenerate range is widened to avoid dividing by zero.
  const high = low === rawHigh ? rawHigh + 0.001 : rawHigh;
  const inverseFrequencies = extrapolation.map((extrapolated, i) => {
    const ramp = Math.min(Math.max((i - low) / (high - low), 0), 1);
    const keep = 1 - ramp; // HF `inv_freq_extrapolation_factor`
    return (extrapolated / factor) * (1 - keep) + extrapolated * keep;
  });
  let attentionFactor = scaling.attentionFactor;
  if (attentionFactor === undefined)
    attentionFactor =
      scaling.mscale && scaling.mscaleAllDim
        ? yarnMscale(factor, scaling.mscale) / yarnMscale(factor, scaling.mscaleAllDim)
        : yarnMscale(factor);
  return { inverseFrequencies, attentionFactor };
}

function llama3Frequencies(inverse: Float64Array, scaling: Llama3Scaling): Float64Array {
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositions } = scaling;
  const lowFreqWavelength = originalMaxPositions / lowFreqFactor;
  const highFreqWavelength = originalMaxPositions / highFreqFactor;
  return inverse.map((f) => {
    const wavelength = (2 * Math.PI) / f;
    if (wavelength < highFreqWavelength) return f; // high frequencies: unchanged
    if (wavelength > lowFreqWavelength) return f / factor; // low frequencies: interpolated
    const smooth =
      (originalMaxPositions / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

function longRopeFrequencies(
  rotaryDim: number,
  base: number,
  scaling: LongRopeScaling,
  sequenceLength: number | undefined,
): RopeFrequencies {
  const long = sequenceLength !== undefined && sequenceLength > scaling.originalMaxPositions;
  const factors = long ? scaling.longFactor : scaling.shortFactor;
  const inverseFrequencies = Float64Array.from(
    { length: rotaryDim / 2 },
    (_, i) => 1 / (factors[i]! * Math.pow(base, (2 * i) / rotaryDim)),
  );
  const factor = scaling.factor ?? 1;
  const attentionFactor =
    scaling.attentionFactor ??
    (factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(scaling.originalMaxPositions)));
  return { inverseFrequencies, attentionFactor };
}

/** Checks a scaling config; every failure names the field, its value and what is allowed. */
export function validateScaling(scaling: RopeScaling, rotaryDim?: number): void {
  const where = `rope scaling '${(scaling as { type?: unknown }).type}'`;
  if (!(ROPE_SCALING_TYPES as readonly unknown[]).includes((scaling as { type?: unknown }).type))
    throw new Error(
      `rope scaling: field 'type' = ${JSON.stringify((scaling as { type?: unknown }).type)} is not allowed; expected one of ${ROPE_SCALING_TYPES.join(', ')}`,
    );
  const atLeastOne = (field: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 1)
      throw new Error(
        `${where}: field '${field}' = ${String(v)} is not allowed; expected a finite number ≥ 1`,
      );
  };
  const positiveInt = (field: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      throw new Error(
        `${where}: field '${field}' = ${String(v)} is not allowed; expected an integer ≥ 1`,
      );
  };
  const optionalPositive = (field: string, v: unknown) => {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0))
      throw new Error(
        `${where}: field '${field}' = ${String(v)} is not allowed; expected a finite number > 0`,
      );
  };
  switch (scaling.type) {
    case 'linear':
    case 'ntk':
      atLeastOne('factor', scaling.factor);
      return;
    case 'dynamic':
      atLeastOne('factor', scaling.factor);
      positiveInt('maxPositions', scaling.maxPositions);
      return;
    case 'yarn':
      atLeastOne('factor', scaling.factor);
      positiveInt('originalMaxPositions', scaling.originalMaxPositions);
      optionalPositive('betaFast', scaling.betaFast);
      optionalPositive('betaSlow', scaling.betaSlow);
      optionalPositive('attentionFactor', scaling.attentionFactor);
      optionalPositive('mscale', scaling.mscale);
      optionalPositive('mscaleAllDim', scaling.mscaleAllDim);
      if ((scaling.betaFast ?? 32) < (scaling.betaSlow ?? 1))
        throw new Error(
          `${where}: field 'betaFast' = ${scaling.betaFast ?? 32} is not allowed; it must be ≥ betaSlow = ${scaling.betaSlow ?? 1}`,
        );
      return;
    case 'llama3':
      atLeastOne('factor', scaling.factor);
      positiveInt('originalMaxPositions', scaling.originalMaxPositions);
      optionalPositive('lowFreqFactor', scaling.lowFreqFactor);
      optionalPositive('highFreqFactor', scaling.highFreqFactor);
      if (!(scaling.highFreqFactor > scaling.lowFreqFactor))
        throw new Error(
          `${where}: field 'highFreqFactor' = ${scaling.highFreqFactor} is not allowed; it must be > lowFreqFactor = ${scaling.lowFreqFactor}`,
        );
      return;
    case 'longrope': {
      positiveInt('originalMaxPositions', scaling.originalMaxPositions);
      if (scaling.factor !== undefined) atLeastOne('factor', scaling.factor);
      optionalPositive('attentionFactor', scaling.attentionFactor);
      for (const field of ['shortFactor', 'longFactor'] as const) {
        const list = scaling[field];
        if (
          !Array.isArray(list) ||
          list.some((v) => typeof v !== 'number' || !(v > 0) || !Number.isFinite(v))
        )
          throw new Error(
            `${where}: field '${field}' = ${JSON.stringify(list)} is not allowed; expected a list of finite numbers > 0`,
          );
        if (rotaryDim !== undefined && list.length !== rotaryDim / 2)
          throw new Error(
            `${where}: field '${field}' has ${list.length} factors; expected rotaryDim/2 = ${rotaryDim / 2}, one per rotated pair`,
          );
      }
      return;
    }
  }
}

export function assertRotaryDim(rotaryDim: number, who: string): void {
  if (!Number.isInteger(rotaryDim) || rotaryDim < 2 || rotaryDim % 2 !== 0)
    throw new Error(
      `${who}: rotaryDim = ${rotaryDim} is not allowed; expected an even integer ≥ 2 (features rotate in pairs)`,
    );
}

function assertPositive(field: string, v: number, who: string): void {
  if (!Number.isFinite(v) || v <= 0)
    throw new Error(`${who}: ${field} = ${v} is not allowed; expected a finite number > 0`);
}
