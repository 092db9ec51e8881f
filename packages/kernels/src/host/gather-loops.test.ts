/**
 * The wasm gather and scatter-add loops: the embedded bytes are the assembly of their source, the
 * wasm host hands them its heap (so the kernels run them, not the JavaScript fallback), and on a
 * memory of their own they give what the JavaScript loops give, to the bit.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';
import { describe, expect, it } from 'vitest';
import { tf } from '@posenc/core';
import { registerKernelsBackend } from '../backend.js';
import { randomValues } from '../testing/compare.js';
import { gatherRows, scatterAddRows } from '../kernels/gather-last.js';
import { GATHER_LOOPS_WASM, gatherLoopsFor } from './gather-loops.js';
import { wasmMemory } from './host-memory.js';
import { isWasmMemory, wasmApi } from './webassembly.js';

const SOURCE = fileURLToPath(new URL('./gather-loops.wat', import.meta.url));

/** The JavaScript loops the kernels fall back to, as the reference. */
function gatherJs(from: Float32Array, size: number, ids: Int32Array, rows: number): Float32Array {
  const to = new Float32Array(rows * ids.length);
  gatherRows(from, size, ids, to, rows);
  return to;
}
function scatterAddJs(from: Float32Array, ids: Int32Array, size: number, rows: number) {
  const to = new Float32Array(rows * size);
  scatterAddRows(from, ids, to, size, rows);
  return to;
}

describe('wasm gather loops', () => {
  it('the embedded module is wat2wasm of gather-loops.wat', async () => {
    const wabt = await wabtInit();
    const parsed = wabt.parseWat('gather-loops.wat', readFileSync(SOURCE, 'utf8'));
    parsed.validate();
    const bytes = Buffer.from(parsed.toBinary({}).buffer).toString('base64');
    parsed.destroy();
    expect(bytes).toBe(GATHER_LOOPS_WASM);
  });

  it('the wasm host exposes its heap and the loops bind to it', async () => {
    const info = await registerKernelsBackend({
      name: 'posenc-kernels-gather-loops',
      host: 'wasm',
    });
    await tf.setBackend(info.name);
    const host = tf.findBackend(info.name);
    const memory = wasmMemory(host);
    expect(isWasmMemory(memory.heap)).toBe(true);
    expect(gatherLoopsFor(memory.heap!)).toBeDefined();
  });

  const cases = [
    { rows: 3, size: 50, picks: 197, run: 3 },
    { rows: 1, size: 7, picks: 1, run: 1 },
    { rows: 4, size: 9, picks: 0, run: 1 },
    { rows: 0, size: 5, picks: 6, run: 2 },
  ];
  for (const { rows, size, picks, run } of cases)
    it(`${rows} rows of ${size} at ${picks} ids in runs of ${run}: as the JavaScript loops, bit for bit`, () => {
      const memory = new wasmApi.Memory({ initial: 1 });
      const loops = gatherLoopsFor(memory)!;
      // Ids in runs, values coming back in later runs, and never-picked values.
      const ids = Int32Array.from(
        { length: picks },
        (_, p) => (Math.floor(p / run) * 5 + 2) % size,
      );
      const x = randomValues(rows * size, 7, -3, 3);
      const dy = randomValues(rows * picks, 8, -3, 3);
      // Byte offsets in the memory: x, dy, ids, the gather's output, the scatter's output (left
      // dirty: the loop zeroes it), and a canary after it that nothing may touch.
      const xAt = 0;
      const dyAt = xAt + 4 * x.length;
      const idsAt = dyAt + 4 * dy.length;
      const gatheredAt = idsAt + 4 * picks;
      const scatteredAt = gatheredAt + 4 * rows * picks;
      const canary = scatteredAt + 4 * rows * size;
      new Float32Array(memory.buffer, xAt, x.length).set(x);
      new Float32Array(memory.buffer, dyAt, dy.length).set(dy);
      new Int32Array(memory.buffer, idsAt, picks).set(ids);
      new Float32Array(memory.buffer, scatteredAt, rows * size).fill(Number.NaN);
      new Float32Array(memory.buffer, canary, 1)[0] = 42;
      loops.gather(xAt, size, idsAt, picks, gatheredAt, rows);
      loops.scatterAdd(dyAt, picks, idsAt, scatteredAt, size, rows);
      expect(new Float32Array(memory.buffer, gatheredAt, rows * picks)).toEqual(
        gatherJs(x, size, ids, rows),
      );
      expect(new Float32Array(memory.buffer, scatteredAt, rows * size)).toEqual(
        scatterAddJs(dy, ids, size, rows),
      );
      expect(new Float32Array(memory.buffer, canary, 1)[0]).toBe(42);
    });

  it('a shared memory, which the module cannot import, leaves the JavaScript loops', () => {
    const shared = new wasmApi.Memory({ initial: 1, maximum: 2, shared: true });
    expect(gatherLoopsFor(shared)).toBeUndefined();
  });
});
