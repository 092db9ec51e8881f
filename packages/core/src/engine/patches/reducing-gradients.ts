import type * as tfType from '@tensorflow/tfjs';

/**
 * TF.js 4.22 gradients that return the wrong shape when an input was broadcast:
 *
 * - BatchMatMul: `a` of shape [2,1,M,K] times `b` of [4,K,N] gives dy of [2,4,M,N], and the
 *   gradient of `a` comes back as [2,4,M,K] instead of being summed over the broadcast batch dim.
 * - Maximum, Minimum, SquaredDifference: the same for elementwise broadcasting (Add, Mul, Sub
 *   and Div do reduce; these three were written without it).
 *
 * Each original gradient is kept and its results are summed over the broadcast axes, as every
 * other binary op's gradient does.
 *
 * - Prod: the gradient indexes `x.shape[axis]` with the axis as given, so a negative axis
 *   (`tf.prod(x, -1)`) fails; the axes are made non-negative before the original runs.
 */
const BROADCASTING = ['BatchMatMul', 'Maximum', 'Minimum', 'SquaredDifference'] as const;

type GradFunc = tfType.GradConfig['gradFunc'];

function replaceGradient(
  tf: typeof tfType,
  kernelName: string,
  wrap: (original: GradFunc) => GradFunc,
): void {
  const original = tf.getGradient(kernelName);
  if (!original) return;
  tf.unregisterGradient?.(kernelName);
  tf.registerGradient({ ...original, gradFunc: wrap(original.gradFunc) });
}

/** Sums `g` over the axes along which `shape` was broadcast to `g`'s shape. */
export function reduceToShape(
  tf: typeof tfType,
  g: tfType.Tensor,
  shape: readonly number[],
): tfType.Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const axes = tf.backend_util.getReductionAxes([...shape], g.shape);
  const summed = axes.length > 0 ? tf.sum(g, axes) : g;
  return tf.reshape(summed, [...shape]);
}

export function installReducingGradients(tf: typeof tfType): void {
  for (const kernelName of BROADCASTING) {
    replaceGradient(tf, kernelName, (original) => (dy, saved, attrs) => {
      const [a, b] = saved as [tfType.Tensor, tfType.Tensor];
      const grads = original(dy, saved, attrs);
      return {
        a: () => reduceToShape(tf, grads['a']!(), a.shape),
        b: () => reduceToShape(tf, grads['b']!(), b.shape),
      };
    });
  }
  replaceGradient(tf, 'Prod', (original) => (dy, saved, attrs) => {
    const rank = (saved[0] as tfType.Tensor).rank;
    const { axis } = attrs as { axis?: number | number[] | null };
    const positive = (a: number) => (a < 0 ? a + rank : a);
    const normalized =
      axis === undefined || axis === null
        ? axis
        : Array.isArray(axis)
          ? axis.map(positive)
          : positive(axis);
    return original(dy, saved, { ...attrs, axis: normalized } as tfType.NamedAttrMap);
  });
}
