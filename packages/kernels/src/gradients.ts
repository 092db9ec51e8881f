/**
 * Faster Sum and Mean gradients on the kernels backends. TF.js 4.22 broadcasts the incoming
 * gradient by multiplying it with `ones(x.shape)`, which fills a JS typed array of x's size and
 * uploads it on every call: in the LM workload, layer norms and the loss made that ~40 ms of JS
 * filling, ~20 ms of copying and much of the garbage collection per step. On our backends the
 * gradient is `broadcastTo(dy)` instead, whose Tile kernel is ONNX Expand, or a host multiply by
 * ones made with the Fill kernel for small tensors (0.4 ms against 3.8 ms for 1M floats). The
 * arithmetic is unchanged (dy·1, then ÷n for Mean), so gradients are bit-for-bit TF.js's. Other
 * backends keep TF.js's own gradient (their Tile is slow).
 */
import { tf } from '@posenc/core';

const backends = new Set<string>();
let installed = false;

function broadcastGradient(dy: tf.Tensor, x: tf.Tensor, axes: number[]): tf.Tensor {
  const expanded = x.shape.slice();
  for (const a of axes) expanded[a] = 1;
  return tf.broadcastTo(tf.reshape(dy, expanded), x.shape);
}

/** Makes the Sum and Mean gradients use `broadcastTo` while `backendName` is the active backend. */
export function installBroadcastGradients(backendName: string): void {
  backends.add(backendName);
  if (installed) return;
  installed = true;
  for (const kernelName of ['Sum', 'Mean'] as const) {
    const original = tf.getGradient(kernelName);
    if (!original) throw new Error(`TF.js registers no ${kernelName} gradient to speed up`);
    tf.registerGradient({
      ...original,
      gradFunc: (dy, saved, attrs) => {
        const g = dy as tf.Tensor;
        if (!backends.has(tf.getBackend()) || g.dtype !== 'float32')
          return original.gradFunc(dy, saved, attrs);
        const [x] = saved as [tf.Tensor];
        const axes = tf.util.parseAxisParam(
          (attrs as unknown as { axis: number | number[] }).axis,
          x.shape,
        );
        if (kernelName === 'Sum') {
          // Computed eagerly, as TF.js's own Sum gradient does.
          const dx = broadcastGradient(g, x, axes);
          return { x: () => dx };
        }
        const reduceSize = axes.reduce((n, a) => n * x.shape[a]!, 1);
        return { x: () => tf.div(broadcastGradient(g, x, axes), reduceSize) };
      },
    });
  }
}
