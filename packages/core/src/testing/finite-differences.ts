/**
 * Gradient checks by central finite differences, for float32 engines. The scalar compared is a
 * fixed random projection S = Σ w·y of every output y, so every output element counts and no
 * gradient can cancel out by symmetry. S is summed in float64 from the float32 outputs, which
 * keeps the rounding of the sum out of the differences.
 */
import { mulberry32 } from '../data/random.js';
import { tf } from '../engine/tf.js';
import type { Tolerance } from './expect-close.js';

export interface GradientCheckOptions {
  /** Seed of the projection weights, the directions and the sampled entries. */
  readonly seed: number;
  /** Step of the differences; float32 needs a large one. Default 1e-2. */
  readonly epsilon?: number;
  /** Entries checked one by one per variable, besides the one of largest gradient. Default 2. */
  readonly sampledEntries?: number;
  /** Between tf's derivative and the difference quotient. Default atol 1e-3, rtol 1e-2. */
  readonly tolerance?: Tolerance;
}

/**
 * Compares tf's gradient of S with respect to every variable with central differences: along a
 * random direction over all its entries (which any wrong entry disturbs), at the entry of largest
 * gradient and at a few sampled entries. Throws naming the variable and entry, also when a
 * variable does not affect S at all (a check of it would prove nothing). Values are restored.
 */
export function checkGradientsByFiniteDifferences(
  outputs: () => tf.Tensor[],
  variables: Record<string, tf.Variable>,
  options: GradientCheckOptions,
): void {
  const { epsilon = 1e-2, sampledEntries = 2 } = options;
  const { atol = 1e-3, rtol = 1e-2 } = options.tolerance ?? {};
  const names = Object.keys(variables);
  if (names.length === 0) throw new Error('gradient check: no variables to check');
  for (const name of names)
    if (!variables[name]!.trainable)
      throw new Error(`gradient check: variable '${name}' is not trainable`);
  const random = mulberry32(options.seed);
  const uniform = () => 2 * random() - 1;

  const projection = projectionOf(outputs, uniform);
  const gradients = analyticGradients(outputs, variables, projection);
  const value = () => projectedValue(outputs, projection);
  try {
    for (const name of names) {
      const variable = variables[name]!;
      const gradient = gradients.get(name)!;
      const compare = (where: string, step: Float32Array, requireEffect: boolean) => {
        const { numeric, analytic } = centralDifference(variable, gradient, step, value);
        const quotient = (x: number) => x / (2 * epsilon);
        const [n, a] = [quotient(numeric), quotient(analytic)];
        if (requireEffect && Math.max(Math.abs(n), Math.abs(a)) < atol / 10)
          throw new Error(
            `gradient check: '${name}' does not affect the outputs (derivative along ${where}: ${n}); nothing to check`,
          );
        if (!(Math.abs(a - n) <= atol + rtol * Math.max(Math.abs(a), Math.abs(n))))
          throw new Error(
            `gradient check: '${name}' along ${where}: tf's gradient gives ${a}, finite differences ${n} (ε = ${epsilon})`,
          );
      };
      const size = variable.size;
      compare(
        'a random direction',
        Float32Array.from({ length: size }, () => epsilon * uniform()),
        true,
      );
      const entries = new Set([largestEntry(gradient)]);
      for (let i = 0; i < sampledEntries && entries.size < size; i++)
        entries.add(Math.floor(random() * size));
      for (const entry of entries) {
        const step = new Float32Array(size);
        step[entry] = epsilon;
        compare(`entry ${entry}`, step, false);
      }
    }
  } finally {
    tf.dispose(projection.tensors);
  }
}

interface Projection {
  readonly weights: Float64Array[];
  readonly tensors: tf.Tensor[];
}

/** Weights uniform in [−1, 1], one per output element, as numbers and as tensors. */
function projectionOf(outputs: () => tf.Tensor[], uniform: () => number): Projection {
  const shapes: number[][] = [];
  tf.tidy(() => {
    for (const y of outputs()) shapes.push(y.shape);
  });
  if (shapes.length === 0) throw new Error('gradient check: the function returned no outputs');
  const weights = shapes.map((shape) =>
    new Float64Array(shape.reduce((a, b) => a * b, 1)).map(() => uniform()),
  );
  const tensors = weights.map((w, i) => tf.tensor(Float32Array.from(w), shapes[i]!, 'float32'));
  return { weights, tensors };
}

function projectedValue(outputs: () => tf.Tensor[], projection: Projection): number {
  let sum = 0;
  tf.tidy(() => {
    outputs().forEach((y, i) => {
      const values = y.dataSync();
      const w = projection.weights[i]!;
      if (values.length !== w.length)
        throw new Error(
          `gradient check: output ${i} changed size between calls (${w.length} → ${values.length})`,
        );
      for (let j = 0; j < w.length; j++) sum += w[j]! * values[j]!;
    });
  });
  return sum;
}

/** tf's gradient of S for every variable as numbers; zeros where S does not depend on it. */
function analyticGradients(
  outputs: () => tf.Tensor[],
  variables: Record<string, tf.Variable>,
  projection: Projection,
): Map<string, Float32Array> {
  const list = Object.values(variables);
  const { value, grads } = tf.variableGrads(
    () => tf.addN(outputs().map((y, i) => tf.sum(tf.mul(y, projection.tensors[i]!)))) as tf.Scalar,
    list,
  );
  const out = new Map<string, Float32Array>();
  for (const [name, variable] of Object.entries(variables)) {
    const g = grads[variable.name];
    out.set(name, g ? Float32Array.from(g.dataSync()) : new Float32Array(variable.size));
  }
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

/**
 * S(θ + up) − S(θ − down) and the first-order prediction g·(up + down), where up and down are
 * the steps as float32 actually stores them (not the requested ±step).
 */
function centralDifference(
  variable: tf.Variable,
  gradient: Float32Array,
  step: Float32Array,
  value: () => number,
): { numeric: number; analytic: number } {
  const base = Float32Array.from(variable.dataSync());
  const shifted = (sign: 1 | -1) => base.map((v, i) => v + sign * step[i]!);
  const plus = shifted(1);
  const minus = shifted(-1);
  const set = (values: Float32Array) =>
    tf.tidy(() => variable.assign(tf.tensor(values, variable.shape, 'float32')));
  try {
    set(plus);
    const high = value();
    set(minus);
    const low = value();
    let analytic = 0;
    for (let i = 0; i < base.length; i++) analytic += gradient[i]! * (plus[i]! - minus[i]!);
    return { numeric: high - low, analytic };
  } finally {
    set(base);
  }
}

function largestEntry(gradient: Float32Array): number {
  let best = 0;
  gradient.forEach((g, i) => {
    if (Math.abs(g) > Math.abs(gradient[best]!)) best = i;
  });
  return best;
}
