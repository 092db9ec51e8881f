/** A small seeded generator for test inputs (mulberry32-style), so failures reproduce. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return state / 2 ** 32;
  };
}

/** `count` values uniform in [lo, hi). */
export function uniform(seed: number, count: number, lo = -1, hi = 1): Float32Array {
  const next = random(seed);
  return Float32Array.from({ length: count }, () => lo + (hi - lo) * next());
}
