import type * as tfType from '@tensorflow/tfjs';

/**
 * TF.js 4.22's Cumsum gradient computes `cumsum(dy, axis, exclusive, !reverse)` and then
 * transposes it as if the axis had been moved last, which scrambles the gradient for every
 * inner axis. The gradient of a (reverse/exclusive) cumulative sum is simply the cumulative
 * sum of dy in the opposite direction along the same axis, in the original layout.
 */
export function installCumsumGradient(tf: typeof tfType): void {
  tf.unregisterGradient?.('Cumsum');
  tf.registerGradient({
    kernelName: 'Cumsum',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const { axis, exclusive, reverse } = attrs as unknown as {
        axis: number;
        exclusive: boolean;
        reverse: boolean;
      };
      const g = Array.isArray(dy) ? dy[0]! : dy;
      const rank = saved[0]!.rank;
      return { x: () => tf.cumsum(g, axis < 0 ? axis + rank : axis, exclusive, !reverse) };
    },
  });
}
