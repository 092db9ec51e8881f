import { afterEach, describe, expect, it } from 'vitest';
import { tf } from './tf.js';
import { parseEngineName, registerEngineProvider, selectEngine } from './select.js';

const lines: string[] = [];
const canLoad = (pkg: string) =>
  import(pkg).then(
    () => true,
    () => false,
  );
const nativeTensorflow =
  (await canLoad('@tensorflow/tfjs-node-gpu')) || (await canLoad('@tensorflow/tfjs-node'));
const log = (l: string) => lines.push(l);

afterEach(() => {
  delete process.env['POSENC_BACKEND'];
  lines.length = 0;
});

describe('engine selection', () => {
  it('POSENC_BACKEND wins over the automatic order', async () => {
    process.env['POSENC_BACKEND'] = 'cpu';
    const choice = await selectEngine({ log });
    expect(choice.engine).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(lines).toEqual(['[posenc] engine: cpu (chosen by POSENC_BACKEND or option)']);
  });

  it('a bad POSENC_BACKEND names the value and the allowed engines', () => {
    expect(() => parseEngineName('gpu')).toThrow(
      'POSENC_BACKEND="gpu" is not an engine; allowed: tensorflow, kernels, webgpu, webgl, wasm, cpu',
    );
  });

  it('falls back past engines that cannot load, saying why in one line', async () => {
    registerEngineProvider({
      name: 'kernels',
      load: async () => {
        throw new Error('onnxruntime-node could not load on this platform');
      },
    });
    const choice = await selectEngine({ log });
    expect(choice.skipped.map((s) => s.engine)).toContain('kernels');
    expect(choice.skipped.find((s) => s.engine === 'kernels')!.reason).toBe(
      'onnxruntime-node could not load on this platform',
    );
    expect(['tensorflow', 'wasm', 'cpu']).toContain(choice.engine);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('kernels: onnxruntime-node could not load on this platform');
  });

  // Where tfjs-node installs it comes first; everywhere else a loadable fast engine wins.
  it.skipIf(nativeTensorflow)(
    'uses a registered fast engine before wasm when it loads',
    async () => {
      tf.registerBackend('test-fast', () => tf.findBackendFactory('cpu')!());
      registerEngineProvider({ name: 'kernels', load: async () => 'test-fast' });
      const choice = await selectEngine({ log });
      expect(choice.engine).toBe('kernels');
      expect(tf.getBackend()).toBe('test-fast');
    },
  );

  it('the engine option wins over POSENC_BACKEND and is checked like it', async () => {
    process.env['POSENC_BACKEND'] = 'wasm';
    const choice = await selectEngine({ engine: 'cpu', log });
    expect(choice.engine).toBe('cpu');
    await expect(selectEngine({ engine: 'gpu' as never, log })).rejects.toThrow(
      'engine="gpu" is not an engine',
    );
  });

  it('in Node the browser engines are not in the automatic order', async () => {
    const choice = await selectEngine({ log });
    const tried = [...choice.skipped.map((s) => s.engine), choice.engine];
    expect(tried).not.toContain('webgl');
    expect(tried).not.toContain('webgpu');
  });

  it('webgl asked for in Node is an error naming why', async () => {
    await expect(selectEngine({ engine: 'webgl', log })).rejects.toThrow(
      'engine webgl cannot be used here: no WebGL backend in this runtime',
    );
  });

  it('an engine asked for by name that cannot load is an error, not a silent fallback', async () => {
    await expect(selectEngine({ engine: 'tensorflow', log })).rejects.toThrow(
      /engine tensorflow cannot be used here/,
    );
  });
});
