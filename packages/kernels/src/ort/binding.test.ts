/**
 * The ONNX Runtime library this package calls: pinned to one onnxruntime-node version, reached
 * through the C API with koffi, with inputs and outputs used in place. If onnxruntime-node or
 * koffi is upgraded, the pin tests fail until the binding has been re-checked and the pin moved.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../onnx/model.js';
import {
  findOrtLibrary,
  loadOrtBinding,
  PINNED_ORT_VERSION,
  resolveOrtBinding,
  type RequireLike,
} from './binding.js';
import { runNegSession } from './fixtures/neg-session.js';

const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>;
};

describe('onnxruntime-node pin', () => {
  it('the installed package and the library inside it are the pinned version', () => {
    expect((require('onnxruntime-node/package.json') as { version: string }).version).toBe(
      PINNED_ORT_VERSION,
    );
    expect(loadOrtBinding().version).toBe(PINNED_ORT_VERSION);
  });

  it('package.json depends on exactly the pinned versions (no range)', () => {
    expect(pkg.dependencies['onnxruntime-node']).toBe(PINNED_ORT_VERSION);
    expect(pkg.dependencies['koffi']).toMatch(/^\d+\.\d+\.\d+$/);
    expect((require('koffi') as { version: string }).version).toBe(pkg.dependencies['koffi']);
  });
});

/** A fake `require` whose package.json resolves into `dir`. */
function fakeRequire(dir: string | undefined, version = PINNED_ORT_VERSION): RequireLike {
  const r = ((id: string) => {
    if (id === 'onnxruntime-node/package.json' && dir) return { version };
    throw new Error(`Cannot find module '${id}'\nRequire stack: …`);
  }) as RequireLike;
  r.resolve = (id: string) => {
    if (id === 'onnxruntime-node/package.json' && dir) return join(dir, 'package.json');
    throw new Error(`Cannot find module '${id}'`);
  };
  return r;
}

describe('findOrtLibrary says in one line why it cannot load', () => {
  it('not installed', () => {
    expect(() => findOrtLibrary(fakeRequire(undefined))).toThrow(
      /^onnxruntime-node is not installed$/,
    );
  });
  it('another version', () => {
    expect(() => findOrtLibrary(fakeRequire(tmpdir(), '1.31.0'))).toThrow(
      `onnxruntime-node 1.31.0 is installed; @posenc/kernels is tested with exactly ${PINNED_ORT_VERSION}`,
    );
  });
  it('no library for this platform', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ort-'));
    expect(() => findOrtLibrary(fakeRequire(dir))).toThrow(
      `onnxruntime-node ${PINNED_ORT_VERSION} has no ONNX Runtime library for ${process.platform}-${process.arch}`,
    );
  });
  it('a library that is not one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ort-'));
    const bin = join(dir, 'bin', 'napi-v6', process.platform, process.arch);
    mkdirSync(bin, { recursive: true });
    const name =
      process.platform === 'win32'
        ? 'onnxruntime.dll'
        : process.platform === 'darwin'
          ? 'libonnxruntime.1.dylib'
          : 'libonnxruntime.so.1';
    writeFileSync(join(bin, name), 'not a shared library');
    const r = fakeRequire(dir);
    expect(findOrtLibrary(r).library).toBe(join(bin, name));
    const fake = ((id: string) => (id === 'koffi' ? require('koffi') : r(id))) as RequireLike;
    fake.resolve = r.resolve;
    expect(() => resolveOrtBinding(fake)).toThrow(/could not load: /);
  });
  it('loads again in the same process (one environment, fresh function types)', () => {
    const again = resolveOrtBinding(require as unknown as RequireLike);
    expect(runNegSession(again)).toEqual([-1, 2]);
  });

  it('stays loaded after the objects that loaded it are collected', () => {
    // A fresh process, so the collections are the only thing between loading and running.
    const child = spawnSync(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        fileURLToPath(new URL('./fixtures/run-after-gc.ts', import.meta.url)),
      ],
      { encoding: 'utf8', cwd: fileURLToPath(new URL('../..', import.meta.url)) },
    );
    expect({ signal: child.signal, status: child.status, stderr: child.stderr }).toEqual({
      signal: null,
      status: 0,
      stderr: '',
    });
    expect(child.stdout).toBe('[-1,2]');
  });

  it('finds the installed one', () => {
    const found = findOrtLibrary(require as unknown as RequireLike);
    expect(found.version).toBe(PINNED_ORT_VERSION);
    expect(found.library).toMatch(/onnxruntime/);
  });
});

describe('a session', () => {
  const model = encodeModel({
    nodes: [{ op: 'Mul', inputs: ['a', 'b'], outputs: ['y'] }],
    inputs: [
      { name: 'a', type: 'float32' },
      { name: 'b', type: 'float32' },
    ],
    outputs: [{ name: 'y', type: 'float32' }],
  });
  const f32 = (data: Float32Array, dims: number[]) => ({ type: 'float32' as const, dims, data });
  const open = () =>
    loadOrtBinding().createSession(model, { intraOpNumThreads: 1, spinning: false });

  it('runs synchronously and writes the output in place, for any shape', () => {
    const session = open();
    const out = new Float32Array(6);
    const result = session.run(
      ['a', 'b'],
      [
        f32(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]),
        f32(new Float32Array([10, 100, 1000]), [3]),
      ],
      ['y'],
      [f32(out, [2, 3])],
    );
    expect(result).toBeUndefined();
    expect(Array.from(out)).toEqual([10, 200, 3000, 40, 500, 6000]);
    // Offset views into one buffer, as tensors are slices of the wasm heap.
    const heap = new Float32Array(8);
    heap.set([3, 4, 2], 4);
    session.run(
      ['a', 'b'],
      [f32(heap.subarray(4, 6), [2]), f32(heap.subarray(6, 7), [])],
      ['y'],
      [f32(heap.subarray(1, 3), [2])],
    );
    expect(Array.from(heap)).toEqual([0, 6, 8, 0, 3, 4, 2, 0]);
    session.dispose();
  });

  it('reads and writes int32, int64 and bool tensors in place', () => {
    const cast = loadOrtBinding().createSession(
      encodeModel({
        nodes: [
          { op: 'Add', inputs: ['i', 'i'], outputs: ['twice'] },
          {
            op: 'Cast',
            inputs: ['i'],
            outputs: ['wide'],
            attributes: [{ name: 'to', kind: 'int', value: 7 }],
          },
          { op: 'Not', inputs: ['flag'], outputs: ['notFlag'] },
        ],
        inputs: [
          { name: 'i', type: 'int32' },
          { name: 'flag', type: 'bool' },
        ],
        outputs: [
          { name: 'twice', type: 'int32' },
          { name: 'wide', type: 'int64' },
          { name: 'notFlag', type: 'bool' },
        ],
      }),
      { intraOpNumThreads: 1, spinning: false },
    );
    const twice = new Int32Array(3);
    const wide = new BigInt64Array(3);
    const notFlag = new Uint8Array(3);
    cast.run(
      ['i', 'flag'],
      [
        { type: 'int32', dims: [3], data: new Int32Array([-2, 0, 7]) },
        { type: 'bool', dims: [3], data: new Uint8Array([1, 0, 1]) },
      ],
      ['twice', 'wide', 'notFlag'],
      [
        { type: 'int32', dims: [3], data: twice },
        { type: 'int64', dims: [3], data: wide },
        { type: 'bool', dims: [3], data: notFlag },
      ],
    );
    expect(Array.from(twice)).toEqual([-4, 0, 14]);
    expect(Array.from(wide)).toEqual([-2n, 0n, 7n]);
    expect(Array.from(notFlag)).toEqual([0, 1, 0]);
    cast.dispose();
  });

  it("rejects an output of the wrong shape with ONNX Runtime's message, writing nothing", () => {
    const session = open();
    const out = new Float32Array(3).fill(-1);
    expect(() =>
      session.run(
        ['a', 'b'],
        [f32(new Float32Array(4), [4]), f32(new Float32Array(4), [4])],
        ['y'],
        [f32(out, [3])],
      ),
    ).toThrow(/^Run: .*shape/i);
    expect(Array.from(out)).toEqual([-1, -1, -1]);
    session.dispose();
    expect(() => session.run([], [], [], [])).toThrow('the ONNX Runtime session was disposed');
  });

  it('rejects a model ONNX Runtime cannot load', () => {
    expect(() =>
      loadOrtBinding().createSession(new Uint8Array([1, 2, 3]), {
        intraOpNumThreads: 1,
        spinning: false,
      }),
    ).toThrow(/^CreateSessionFromArray: /);
  });
});
