/**
 * `npm run bench -w @posenc/roformer`: what RoPE adds to causal softmax attention, forward and
 * backward, at B=8 H=8 N=256 D=64 (the kernels benchmark's workload 1), on the engine
 * `initEngine()` selects. The two variants run in alternating blocks (ABBA by block), so load
 * from other processes and drift hit both alike, while each variant is timed as a user who
 * trains one model runs it, step after step of the same graphs; a block's first step follows the
 * other variant's and is not timed, and the separate rotations are timed after all blocks. The
 * figure is the median (the fastest runs are printed too, as a check on a loaded machine).
 * Target: RoPE costs ≤ 5% more. Before 2026-12-05 the steps alternated one by one with the
 * separate rotations timed between pairs, which gave lower figures than the blocks in the same
 * session (+3.7–7.0%, median 5.8% of 8 runs, against +5.3–14.1%, median 7.4% of 12), and lower
 * than all plain steps followed by all RoPE steps (+6.3–9.3%).
 *
 * The step with RoPE goes through core's `attendSoftmax`, as MultiHeadAttention calls it: on an
 * engine with the fused RoPE attention kernels (`@posenc/kernels`) the rotation runs inside them,
 * elsewhere through the `queryKey` hook. On a shared machine the difference of two timings is
 * noisy, so the separate rotations are also timed directly: the two forward rotations (q, k)
 * and the two inverse rotations of the backward pass (what the `queryKey` path runs).
 *
 * A step is timed as `npm run bench -w @posenc/kernels` times its workloads 1 and 2 (the same
 * computation): until the gradients are computed, not copied out. Every engine `initEngine()`
 * picks runs its kernels synchronously, so they are done when the step returns; reading three
 * [8,8,256,64] gradients back would add the same ~10 ms copy to both variants.
 *
 * Environment: POSENC_BENCH_RUNS (timed steps per variant, default 15), POSENC_BENCH_BLOCK
 * (timed steps per block, default 5), POSENC_BENCH_WARMUP (default 2), POSENC_BACKEND.
 */
import {
  attendSoftmax,
  createEncoding,
  disposePositions,
  initEngine,
  sequencePositions,
  tf,
  type AttentionContext,
  type QKV,
} from '@posenc/core';
import { AngleTableCache, applyRope } from '../index.js';

const [B, H, N, D] = [8, 8, 256, 64];

function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min)
    throw new Error(`${name}=${raw} is not allowed; expected an integer ≥ ${min}`);
  return v;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function main(): Promise<void> {
  const runs = intFromEnv('POSENC_BENCH_RUNS', 15, 1);
  const warmup = intFromEnv('POSENC_BENCH_WARMUP', 2, 0);
  const block = intFromEnv('POSENC_BENCH_BLOCK', 5, 1);
  const choice = await initEngine();
  const rope = createEncoding({ name: 'rope' });
  const positions = sequencePositions(1, N);
  const ctx: AttentionContext = {
    queryPositions: positions,
    keyPositions: positions,
    heads: H,
    headDim: D,
    causal: true,
    layer: 0,
    kind: 'softmax',
    training: true,
  };
  const q = tf.randomNormal([B, H, N, D], 0, 1, 'float32', 1) as tf.Tensor4D;
  const k = tf.randomNormal([B, H, N, D], 0, 1, 'float32', 2) as tf.Tensor4D;
  const v = tf.randomNormal([B, H, N, D], 0, 1, 'float32', 3) as tf.Tensor4D;

  /** One forward and backward pass; returns milliseconds until the gradients are computed. */
  const step = (withRope: boolean): number => {
    const start = performance.now();
    tf.tidy(() => {
      tf.grads((qi: tf.Tensor, ki: tf.Tensor, vi: tf.Tensor) => {
        const qkv: QKV = { q: qi as tf.Tensor4D, k: ki as tf.Tensor4D, v: vi as tf.Tensor4D };
        return attendSoftmax(qkv, { encodings: withRope ? [rope] : [], ctx }).output.sum();
      })([q, k, v]);
    });
    return performance.now() - start;
  };

  const cache = new AngleTableCache();
  /** RoPE's work in one step: rotate q and k, then the backward's inverse rotations. */
  const ropeAlone = (): number => {
    const start = performance.now();
    tf.tidy(() => {
      const { q: rq, k: rk } = rope.queryKey!({ q, k, v }, ctx);
      applyRope(rq, positions, { inverse: true, cache });
      applyRope(rk, positions, { inverse: true, cache });
    });
    return performance.now() - start;
  };

  for (let i = 0; i < warmup; i++) {
    step(false);
    step(true);
    ropeAlone();
  }
  const plain: number[] = [];
  const rotary: number[] = [];
  // Blocks of `block` timed steps, each after one untimed step of the same variant; ABBA order
  // by block, so neither variant always follows the other.
  for (let i = 0; plain.length < runs || rotary.length < runs; i++) {
    const order = i % 2 === 0 ? [false, true] : [true, false];
    for (const withRope of order) {
      const times = withRope ? rotary : plain;
      step(withRope);
      for (let j = 0; j < block && times.length < runs; j++) times.push(step(withRope));
    }
  }
  const alone: number[] = [];
  for (let i = 0; i < runs; i++) alone.push(ropeAlone());
  const a = median(plain);
  const b = median(rotary);
  const fastest = [Math.min(...plain), Math.min(...rotary)] as const;
  const lines = [
    `engine: ${choice.engine} (backend ${tf.getBackend()})`,
    `causal softmax attention, forward + backward, B=${B} H=${H} N=${N} D=${D}; median of ${runs} runs in blocks of ${block} after ${warmup} warm-up`,
    `without RoPE: ${a.toFixed(1)} ms`,
    `with RoPE:    ${b.toFixed(1)} ms`,
    `ratio: ${(b / a).toFixed(3)} (RoPE adds ${((b / a - 1) * 100).toFixed(1)}%; target ≤ 5%)`,
    `fastest runs: ${fastest[0].toFixed(1)} / ${fastest[1].toFixed(1)} ms, ratio ${(fastest[1] / fastest[0]).toFixed(3)}`,
    `separate rotations (queryKey: 2 rotations + 2 inverse rotations): ${median(alone).toFixed(2)} ms median, ${((median(alone) / a) * 100).toFixed(1)}% of attention without RoPE (fastest: ${Math.min(...alone).toFixed(2)} ms, ${((Math.min(...alone) / fastest[0]) * 100).toFixed(1)}%)`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  tf.dispose([q, k, v]);
  disposePositions(positions);
  rope.dispose?.();
  cache.dispose();
}

await main();
