import type * as tfType from '@tensorflow/tfjs';

/**
 * TF.js 4.22 registers no gradient for Greater, Less, Equal, NotEqual and LessEqual, so a mask
 * computed inside a taped function (`where(greater(x, 0), …)`) makes backprop throw. A
 * comparison is piecewise constant: its gradient is zero almost everywhere.
 */
const COMPARISONS = ['Greater', 'Less', 'Equal', 'NotEqual', 'LessEqual'] as const;

export function installComparisonGradients(tf: typeof tfType): void {
  for (const kernelName of COMPARISONS) {
    if (tf.getGradient(kernelName) != null) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: ['a', 'b'],
      gradFunc: (_dy, saved) => {
        const [a, b] = saved as [tfType.Tensor, tfType.Tensor];
        return { a: () => tf.zerosLike(a), b: () => tf.zerosLike(b) };
      },
    });
  }
}
