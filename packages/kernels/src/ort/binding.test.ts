/**
 * The internal binding this package relies on: pinned to one onnxruntime-node version and
 * checked for shape. If onnxruntime-node is upgraded, these tests fail until the binding has
 * been re-read and the pin moved.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../onnx/model.js';
import {
  describeBindingMismatch,
  loadOrtBinding,
  PINNED_ORT_VERSION,
  resolveOrtBinding,
  type RequireLike,
} from './binding.js';

const require = createRequire(import.meta.url);

describe('onnxruntime-node pin', () => {
  it('the installed version is the pinned one', () => {
    expect((require('onnxruntime-node/package.json') as { version: string }).version).toBe(
      PINNED_ORT_VERSION,
    );
  });

  it('package.json depends on exactly the pinned version (no range)', () => {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { dependencies: Record<string, string> };
    expect(pkg.dependencies['onnxruntime-node']).toBe(PINNED_ORT_VERSION);
  });

  it('the installed internal binding has the shape this package was written against', () => {
    expect(describeBindingMismatch(require('onnxruntime-node/dist/binding.js'))).toBeUndefined();
  });
});

describe('describeBindingMismatch', () => {
  const session = class {
    loadModel() {}
    run() {}
    dispose() {}
    get inputMetadata() {
      return [];
    }
    get outputMetadata() {
      return [];
    }
  };
  it('names what changed', () => {
    expect(describeBindingMismatch({ binding: { InferenceSession: session } })).toBe(
      'dist/binding.js exports no initOrt()',
    );
    expect(describeBindingMismatch({ initOrt() {}, binding: {} })).toBe(
      'dist/binding.js exports no binding.InferenceSession',
    );
    const noRun = class extends session {};
    Object.defineProperty(noRun.prototype, 'run', { value: undefined });
    expect(describeBindingMismatch({ initOrt() {}, binding: { InferenceSession: noRun } })).toBe(
      'binding.InferenceSession has no method run()',
    );
    const noMetadata = class {
      loadModel() {}
      run() {}
      dispose() {}
    };
    expect(
      describeBindingMismatch({ initOrt() {}, binding: { InferenceSession: noMetadata } }),
    ).toBe('binding.InferenceSession has no accessor inputMetadata');
    expect(
      describeBindingMismatch({ initOrt() {}, binding: { InferenceSession: session } }),
    ).toBeUndefined();
  });
});

describe('resolveOrtBinding says in one line why it cannot load', () => {
  const fake =
    (modules: Record<string, unknown>): RequireLike =>
    (id) => {
      const m = modules[id];
      if (m instanceof Error) throw m;
      if (m === undefined) throw new Error(`Cannot find module '${id}'\nRequire stack: …`);
      return m;
    };
  it('not installed', () => {
    expect(() => resolveOrtBinding(fake({}))).toThrow(/^onnxruntime-node is not installed$/);
  });
  it('another version', () => {
    expect(() =>
      resolveOrtBinding(fake({ 'onnxruntime-node/package.json': { version: '1.31.0' } })),
    ).toThrow(
      `onnxruntime-node 1.31.0 is installed; @posenc/kernels uses its internal binding and needs exactly ${PINNED_ORT_VERSION}`,
    );
  });
  it('no native binary for this platform', () => {
    const error = new Error(
      "Cannot find module '../bin/napi-v6/freebsd/x64/onnxruntime_binding.node'\nRequire stack: …",
    );
    const load = () =>
      resolveOrtBinding(
        fake({
          'onnxruntime-node/package.json': { version: PINNED_ORT_VERSION },
          'onnxruntime-node/dist/binding.js': error,
        }),
      );
    expect(load).toThrow(
      /could not load its native binding on .*: Cannot find module '..\/bin\/napi-v6\/freebsd\/x64\/onnxruntime_binding.node'$/,
    );
  });
  it('a changed internal API', () => {
    const load = () =>
      resolveOrtBinding(
        fake({
          'onnxruntime-node/package.json': { version: PINNED_ORT_VERSION },
          'onnxruntime-node/dist/binding.js': { binding: {} },
        }),
      );
    expect(load).toThrow(
      `onnxruntime-node ${PINNED_ORT_VERSION}: unexpected internal binding (dist/binding.js exports no initOrt())`,
    );
  });
});

describe('the native session', () => {
  const model = encodeModel({
    nodes: [{ op: 'Mul', inputs: ['a', 'b'], outputs: ['y'] }],
    inputs: [
      { name: 'a', type: 'float32' },
      { name: 'b', type: 'float32' },
    ],
    outputs: [{ name: 'y', type: 'float32' }],
  });
  const arg = (data: Float32Array, dims: number[]) => ({
    type: 'float32' as const,
    dims,
    location: 'cpu' as const,
    data,
  });

  it('runs synchronously and writes a preallocated output in place, for any shape', () => {
    const session = loadOrtBinding().createSession(model, { intraOpNumThreads: 1 });
    const out = new Float32Array(6);
    const result = session.run(
      {
        a: arg(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]),
        b: arg(new Float32Array([10, 100, 1000]), [3]),
      },
      { y: arg(out, [2, 3]) },
    );
    expect(result).not.toBeInstanceOf(Promise);
    expect(Array.from(out)).toEqual([10, 200, 3000, 40, 500, 6000]);
    const view = new Float32Array(new ArrayBuffer(32), 8, 2); // an offset view, like a heap slice
    session.run(
      { a: arg(new Float32Array([3, 4]), [2]), b: arg(new Float32Array([2]), []) },
      { y: arg(view, [2]) },
    );
    expect(Array.from(new Float32Array(view.buffer))).toEqual([0, 0, 6, 8, 0, 0, 0, 0]);
    session.dispose();
  });

  it('rejects an output buffer of the wrong size instead of writing past it', () => {
    const session = loadOrtBinding().createSession(model, {
      intraOpNumThreads: 1,
      logSeverityLevel: 4,
    });
    expect(() =>
      session.run(
        { a: arg(new Float32Array(4), [4]), b: arg(new Float32Array(4), [4]) },
        { y: arg(new Float32Array(3), [3]) },
      ),
    ).toThrow();
    session.dispose();
  });
});
