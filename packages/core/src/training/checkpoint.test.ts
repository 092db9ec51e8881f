import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../engine/tf.js';
import { readSafetensorsFile } from '../io/safetensors-files.js';
import { loadWeights, weightsToSafetensors } from './weights.js';
import {
  OPTIMIZER_FILE,
  POINTER_FILE,
  saveWeights,
  TRAINER_FILE,
  WEIGHTS_FILE,
} from './checkpoint.js';
import {
  createResumeRunModel,
  createTinyLm,
  parameterValues,
  resumeRunOptions,
} from './fixtures/tiny-lm.js';
import { train } from './trainer.js';

let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'posenc-checkpoint-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
let dirCount = 0;
const freshDir = () => join(root, `case-${dirCount++}`);
const zerosVariable = (shape: number[]) => tf.tidy(() => tf.variable(tf.zeros(shape)));

describe('saveWeights / loadWeights', () => {
  it('round-trips parameters by name, with metadata, assigning in place', async () => {
    const source = createTinyLm(1);
    const target = createTinyLm(2);
    const path = join(root, 'weights.safetensors');
    await saveWeights(path, source.parameters, { format: 'tiny' });
    const variables = Object.values(target.parameters);
    const loaded = await loadWeights(path, target.parameters);
    expect(loaded).toEqual({ metadata: { format: 'tiny' }, missing: [], unexpected: [] });
    expect(parameterValues(target.parameters)).toEqual(parameterValues(source.parameters));
    expect(Object.values(target.parameters)).toEqual(variables);
    const header = await readSafetensorsFile(path);
    expect([...header.tensors.keys()].sort()).toEqual(Object.keys(source.parameters).sort());
    expect(header.tensors.get('embed.weight')).toMatchObject({ dtype: 'F32', shape: [7, 8] });
    source.dispose();
    target.dispose();
  });

  it('loads the bytes of weightsToSafetensors, a Response and a file URL like the path', async () => {
    const source = createTinyLm(3);
    const path = join(root, 'weights-sources.safetensors');
    await saveWeights(path, source.parameters, { format: 'tiny' });
    const bytes = await weightsToSafetensors(source.parameters, { format: 'tiny' });
    expect(bytes).toEqual(new Uint8Array(await readFile(path)));
    for (const from of [bytes, new Response(bytes), pathToFileURL(path)]) {
      const target = createTinyLm(4);
      const loaded = await loadWeights(from, target.parameters);
      expect(loaded.metadata).toEqual({ format: 'tiny' });
      expect(parameterValues(target.parameters)).toEqual(parameterValues(source.parameters));
      target.dispose();
    }
    source.dispose();
  });

  it('lists every mismatch and assigns nothing', async () => {
    const source = createTinyLm(1);
    const path = join(root, 'mismatch.safetensors');
    const extra = zerosVariable([2]);
    await saveWeights(path, { ...source.parameters, 'extra.bias': extra });
    const target = createTinyLm(2);
    const wrongShape = zerosVariable([8, 3]);
    const { 'head.weight': _head, ...rest } = target.parameters;
    const parameters = { ...rest, 'layers.0.mlp.weight': wrongShape, 'new.weight': wrongShape };
    const before = parameterValues(parameters);
    await expect(loadWeights(path, parameters)).rejects.toThrow(
      `weights ${path} do not match the parameters:\n` +
        '  missing in file: new.weight\n' +
        '  not a parameter: extra.bias\n' +
        '  not a parameter: head.weight\n' +
        '  shape of layers.0.mlp.weight: [8,8] in the file, [8,3] in the model',
    );
    expect(parameterValues(parameters)).toEqual(before);

    const lenient = await loadWeights(
      path,
      { 'embed.weight': target.parameters['embed.weight']!, 'new.weight': wrongShape },
      { strict: false },
    );
    expect(lenient).toMatchObject({ missing: ['new.weight'] });
    expect(lenient.unexpected.sort()).toEqual([
      'extra.bias',
      'head.weight',
      'layers.0.mlp.bias',
      'layers.0.mlp.weight',
      'layers.0.norm.weight',
    ]);
    expect(parameterValues(target.parameters)['embed.weight']).toEqual(
      parameterValues(source.parameters)['embed.weight'],
    );
    tf.dispose([extra, wrongShape]);
    source.dispose();
    target.dispose();
  });
});

describe('training checkpoints', () => {
  it('writes step folders with weights, moments and trainer.json, a pointer, and keeps the newest ones', async () => {
    const dir = freshDir();
    // A step folder beyond any checkpoint of this run: left by an interrupted run before its pointer moved.
    await mkdir(join(dir, 'step-00000099'), { recursive: true });
    const model = createResumeRunModel();
    await train({
      ...resumeRunOptions(model, 6),
      checkpointDir: dir,
      checkpointEvery: 2,
      keepCheckpoints: 2,
    });
    expect((await readdir(dir)).sort()).toEqual([POINTER_FILE, 'step-00000004', 'step-00000006']);
    expect(JSON.parse(await readFile(join(dir, POINTER_FILE), 'utf8'))).toEqual({
      step: 6,
      folder: 'step-00000006',
    });
    const folder = join(dir, 'step-00000006');
    expect((await readdir(folder)).sort()).toEqual(
      [WEIGHTS_FILE, OPTIMIZER_FILE, TRAINER_FILE].sort(),
    );

    const weights = await readSafetensorsFile(join(folder, WEIGHTS_FILE));
    expect(weights.metadata).toEqual({ step: '6' });
    expect([...weights.tensors.keys()].sort()).toEqual(Object.keys(model.parameters).sort());
    const moments = await readSafetensorsFile(join(folder, OPTIMIZER_FILE));
    expect(moments.metadata).toEqual({ step: '6' });
    const names = Object.keys(model.parameters);
    expect([...moments.tensors.keys()].sort()).toEqual(
      [...names.map((n) => `m.${n}`), ...names.map((n) => `v.${n}`)].sort(),
    );
    expect(moments.tensors.get('v.embed.weight')).toMatchObject({ dtype: 'F32', shape: [7, 8] });

    const record = JSON.parse(await readFile(join(folder, TRAINER_FILE), 'utf8'));
    expect(record).toMatchObject({ format: 'posenc-trainer/1', step: 6, seed: 1234 });
    expect(record.lossHistory).toHaveLength(6);
    expect(record.config.schedule).toEqual({
      kind: 'cosine',
      warmupSteps: 3,
      minLrRatio: 0.1,
      totalSteps: 6,
    });
    model.dispose();
  });

  it('resumes from the pointer, ignoring and then replacing a half-written newer step folder', async () => {
    const reference = createResumeRunModel();
    await train({ ...resumeRunOptions(reference, 8) });

    const dir = freshDir();
    const interrupted = createResumeRunModel();
    const controller = new AbortController();
    await train({
      ...resumeRunOptions(interrupted, 8),
      checkpointDir: dir,
      checkpointEvery: 2,
      signal: controller.signal,
      onProgress: (e) => e.step === 3 && controller.abort(),
    });
    // A crash while writing step 6: weights there, moments and trainer.json not yet, pointer unchanged.
    await mkdir(join(dir, 'step-00000006'));
    await writeFile(join(dir, 'step-00000006', WEIGHTS_FILE), 'partial');

    const resumed = createResumeRunModel();
    const result = await train({
      ...resumeRunOptions(resumed, 8),
      checkpointDir: dir,
      checkpointEvery: 2,
      resume: true,
    });
    expect(result).toMatchObject({
      resumedFrom: 4,
      completedSteps: 8,
      checkpoint: join(dir, 'step-00000008'),
    });
    expect(parameterValues(resumed.parameters)).toEqual(parameterValues(reference.parameters));
    const rewritten = await readSafetensorsFile(join(dir, 'step-00000006', WEIGHTS_FILE));
    expect(rewritten.metadata).toEqual({ step: '6' });
    for (const m of [reference, interrupted, resumed]) m.dispose();
  });

  it('refuses a checkpoint whose parameters differ from the model, listing the differences and loading nothing', async () => {
    const dir = freshDir();
    const model = createResumeRunModel();
    await train({ ...resumeRunOptions(model, 2), schedule: {}, checkpointDir: dir });
    const other = createTinyLm(9);
    const wider = zerosVariable([8, 9]);
    const { 'layers.0.mlp.bias': _bias, ...rest } = other.parameters;
    const parameters = {
      ...rest,
      'head.weight': wider,
      'layers.1.mlp.weight': zerosVariable([8, 8]),
    };
    const before = parameterValues(parameters);
    await expect(
      train({
        ...resumeRunOptions(other, 4),
        schedule: {},
        parameters,
        checkpointDir: dir,
        resume: true,
      }),
    ).rejects.toThrow(
      `checkpoint ${join(dir, 'step-00000002')} does not match the model's parameters:\n` +
        '  missing in checkpoint: layers.1.mlp.weight\n' +
        '  not in the model: layers.0.mlp.bias\n' +
        '  shape of head.weight: [8,7] in the file, [8,9] in the model',
    );
    expect(parameterValues(parameters)).toEqual(before);
    tf.dispose([wider, parameters['layers.1.mlp.weight']]);
    model.dispose();
    other.dispose();
  });
});
