import { afterEach, describe, expect, it } from 'vitest';
import { registerEngineProvider, selectEngine, tf } from '@posenc/core';
import {
  BACKEND_NAME,
  createKernelsEngineProvider,
  kernelsBackendInfo,
  kernelsEngineProvider,
} from './index.js';
import { expectSameAsCpu, randomValues } from './testing/compare.js';

const canLoad = (pkg: string) =>
  import(pkg).then(
    () => true,
    () => false,
  );
const nativeTensorflow =
  (await canLoad('@tensorflow/tfjs-node-gpu')) || (await canLoad('@tensorflow/tfjs-node'));
const lines: string[] = [];
const log = (l: string) => lines.push(l);

afterEach(() => {
  delete process.env['POSENC_BACKEND'];
  lines.length = 0;
  registerEngineProvider(kernelsEngineProvider);
});

describe('the kernels engine in core', () => {
  it('importing the package registers the provider; POSENC_BACKEND=kernels activates posenc-kernels', async () => {
    process.env['POSENC_BACKEND'] = 'kernels';
    const choice = await selectEngine({ log });
    expect(choice).toEqual({ engine: 'kernels', backend: BACKEND_NAME, skipped: [] });
    expect(tf.getBackend()).toBe(BACKEND_NAME);
    expect(lines).toEqual(['[posenc] engine: kernels (chosen by POSENC_BACKEND or option)']);
    const info = kernelsBackendInfo()!;
    expect(info.host).toBe('wasm');
    expect(info.accelerated).toEqual(
      expect.arrayContaining(['BatchMatMul', '_FusedMatMul', 'Sum', 'Tanh']),
    );
  });

  it.skipIf(nativeTensorflow)(
    'is the automatic choice where native TensorFlow is absent',
    async () => {
      const choice = await selectEngine({ log });
      expect(choice.engine).toBe('kernels');
      expect(choice.skipped.map((s) => s.engine)).toEqual(['tensorflow']);
    },
  );

  it('POSENC_BACKEND=wasm still wins', async () => {
    process.env['POSENC_BACKEND'] = 'wasm';
    expect((await selectEngine({ log })).engine).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('when ONNX Runtime cannot load, core falls back with the first line of the reason', async () => {
    const failing = createKernelsEngineProvider(async () => {
      throw new Error(
        'onnxruntime-node 1.30.0 could not load its native binding on freebsd-x64: no such file\n    at stack…',
      );
    });
    await expect(failing.load()).rejects.toThrow(
      /^onnxruntime-node 1.30.0 could not load its native binding on freebsd-x64: no such file$/,
    );
    registerEngineProvider(failing);
    const choice = await selectEngine({ log });
    expect(['tensorflow', 'wasm']).toContain(choice.engine);
    expect(choice.skipped.find((s) => s.engine === 'kernels')?.reason).toBe(
      'onnxruntime-node 1.30.0 could not load its native binding on freebsd-x64: no such file',
    );
    expect(lines).toHaveLength(1);
  });

  it("core's TF.js patches reach the backend: the embedding (gather) gradient equals cpu", async () => {
    await selectEngine({ engine: 'kernels', log: null });
    const info = kernelsBackendInfo()!;
    await expectSameAsCpu(
      info,
      'GatherV2',
      () => {
        const table = tf.tensor2d(randomValues(20 * 3, 5), [20, 3]);
        const ids = tf.tensor2d(
          [
            [4, 0, 4],
            [1, 1, 19],
          ],
          [2, 3],
          'int32',
        );
        const w = tf.tensor(randomValues(18, 6), [2, 3, 3]);
        return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), w)))(table);
      },
      'gather gradient',
    );
  });
});
