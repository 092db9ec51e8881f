/**
 * Standard normal values addressed by integer coordinates: value(key, i) is a pure function of
 * a key (seed, draw, stream, …) and an index. The noise of SPE is indexed by position, so a
 * counter-based generator gives every position the same value whatever window of positions a
 * call asks for: a longer sequence extends the noise of a shorter one, a cache sees the noise of
 * the full sequence, and a batch row with other positions reads other values.
 */

/** The lowbias32 finalizer: a bijective, well-mixing 32-bit hash step. */
function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** A 32-bit key for a list of integer coordinates (order matters). */
export function noiseKey(...coordinates: readonly number[]): number {
  let h = 0x2545f491;
  for (const c of coordinates) {
    if (!Number.isInteger(c)) throw new Error(`noise coordinate ${c} is not an integer`);
    // Two words per coordinate, so values beyond 32 bits (and negative ones) stay distinct.
    h = mix32(h ^ (c >>> 0));
    h = mix32(h + Math.floor(c / 4294967296) + 0x9e3779b9);
  }
  return h;
}

const TWO_PI = 2 * Math.PI;
const UNIT = 1 / 4294967296;

/** The standard normal value at index `i` of the stream `key` (Box–Muller of two hashes). */
export function normalAt(key: number, i: number): number {
  const h = mix32((key ^ mix32(i >>> 0)) + Math.floor(i / 4294967296));
  const u1 = (mix32(h ^ 0x68e31da4) + 0.5) * UNIT; // in (0, 1): the logarithm stays finite
  const u2 = mix32(h ^ 0xb5297a4d) * UNIT;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(TWO_PI * u2);
}

/** `length` consecutive values of stream `key` from index `start`. */
export function normalRun(
  key: number,
  start: number,
  length: number,
  out = new Float32Array(length),
  offset = 0,
): Float32Array {
  for (let i = 0; i < length; i++) out[offset + i] = normalAt(key, start + i);
  return out;
}
