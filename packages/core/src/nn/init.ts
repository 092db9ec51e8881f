/**
 * Deterministic parameter creation. Each parameter's random stream is derived from the run's
 * seed and the parameter's stable name, so adding a parameter elsewhere never changes the
 * initial values of the others.
 */
import { tf } from '../engine/tf.js';

/**
 * Initial std of embedding tables and projections in core's models (GPT-2's 0.02). Additive
 * position tables default to the same scale so that neither signal swamps the other at start.
 */
export const EMBEDDING_INIT_STD = 0.02;

/** FNV-1a of the name mixed with the seed: a 31-bit seed for TF.js's random ops. */
export function seedFor(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 1) & 0x7fffffff;
}

export function normalParameter(
  shape: number[],
  std: number,
  seed: number,
  name: string,
): tf.Variable {
  return tf.tidy(() =>
    tf.variable(tf.truncatedNormal(shape, 0, std, 'float32', seedFor(seed, name)), true),
  );
}

// tidy frees the initial value; the variable keeps its own reference to the data.
export function zerosParameter(shape: number[]): tf.Variable {
  return tf.tidy(() => tf.variable(tf.zeros(shape), true));
}

export function onesParameter(shape: number[]): tf.Variable {
  return tf.tidy(() => tf.variable(tf.ones(shape), true));
}

export function uniformParameter(
  shape: number[],
  limit: number,
  seed: number,
  name: string,
): tf.Variable {
  return tf.tidy(() =>
    tf.variable(tf.randomUniform(shape, -limit, limit, 'float32', seedFor(seed, name)), true),
  );
}
