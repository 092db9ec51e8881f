import { selectEngine, tf } from '@posenc/core';
import './index.js';
await selectEngine({ engine: 'kernels', log: null });
const time = (label: string, f: () => void, n = 21) => { for (let i = 0; i < 3; i++) f(); const ts: number[] = []; for (let i = 0; i < n; i++) { const t0 = performance.now(); f(); ts.push(performance.now() - t0); } ts.sort((a, b) => a - b); console.log(label.padEnd(30), ts[n >> 1]!.toFixed(2), 'ms (min', ts[0]!.toFixed(2), ')'); };
for (const [small, big] of [[[16, 256, 1], [16, 256, 256]], [[1, 1, 1, 1], [8, 8, 256, 64]], [[1, 256], [4096, 256]]]) {
  const dy = tf.randomNormal(small);
  time(`ones ${big}`, () => tf.tidy(() => { tf.mul(dy, tf.ones(big)); }));
  time(`broadcastTo ${big}`, () => tf.tidy(() => { tf.broadcastTo(dy, big); }));
}
