/**
 * Exports what a PyTorch peer needs to replay one cell of `posenc bench lm` exactly: the run's
 * config, the initial parameters of the cell's model (every method of a seed starts from the
 * same ones), the training windows of every step of the standard procedure, and the evaluation
 * segments. `torch_lm.py` beside this file trains the same model on the same batches and scores
 * the same segments, so a difference in figures is a difference in computation, not in data.
 *
 *   npx tsx --conditions=@posenc/source packages/eval/tools/torch-reference/export-run.ts \
 *     --preset compare --method alibi --seed 0 --out /tmp/ref
 *
 * Writes `<out>/meta.json`, `<out>/params.bin` (float32, in meta's order), `<out>/train.bin`
 * (int32 [steps, batch, L + 1] windows) and `<out>/eval.bin` (int32 segments, lengths in meta).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createEncoding, initEngine, randomWindows, tf, train } from '@posenc/core';
import { LM_PRESETS, lmHarness } from '../../src/index.js';
import { loadLMData } from '../../src/harnesses/lm/data.js';
import { createModel, standardSession } from '../../src/harnesses/lm/methods/standard-session.js';
import { loadPlugins } from '../../src/run/plugins.js';

function argument(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : fallback;
  if (value === undefined) throw new Error(`export-run: --${name} is required`);
  return value;
}

await initEngine({ engine: argument('engine', 'kernels') as 'kernels', log: null });
await loadPlugins();
const presetName = argument('preset', 'compare');
const preset = LM_PRESETS[presetName];
if (!preset) throw new Error(`export-run: --preset ${presetName} is not one of the LM presets`);
const method = argument('method', 'alibi');
const seed = Number(argument('seed', '0'));
const out = argument('out');
const steps = Number(argument('steps', String(preset.config.steps)));
const config = await lmHarness.resolveConfig({ ...preset.config, steps }, process.cwd());
const data = await loadLMData(config);
const model = createModel({ config, data, seed }, [createEncoding({ name: method })]);

await mkdir(out, { recursive: true });
const parameters = Object.entries(model.parameters()).map(([name, v]) => ({
  name,
  shape: v.shape,
  values: v.dataSync() as Float32Array,
}));
await writeFile(
  join(out, 'params.bin'),
  Buffer.concat(parameters.map((p) => Buffer.from(p.values.buffer, 0, p.values.byteLength))),
);

// The standard procedure's windows (core's randomWindows), as L + 1 tokens per row: the inputs
// and the last target.
const tokens = data.train.tokens;
const { batch, trainLength: L } = config;
const windows = new Int32Array(steps * batch * (L + 1));
for (let step = 0; step < steps; step++) {
  const drawn = randomWindows(tokens, batch, L, seed, step);
  const [x, y] = [drawn.inputs.dataSync(), drawn.targets.dataSync()];
  for (let row = 0; row < batch; row++) {
    const at = (step * batch + row) * (L + 1);
    windows.set(x.subarray(row * L, (row + 1) * L), at);
    windows[at + L] = y[(row + 1) * L - 1]!;
  }
  tf.dispose([drawn.inputs, drawn.targets]);
}
await writeFile(join(out, 'train.bin'), Buffer.from(windows.buffer));

const segments = data.segments.map((s) => Int32Array.from(s));
await writeFile(join(out, 'eval.bin'), Buffer.concat(segments.map((s) => Buffer.from(s.buffer))));

await writeFile(
  join(out, 'meta.json'),
  JSON.stringify(
    {
      preset: presetName,
      method,
      seed,
      config,
      training: lmHarness.training(config, data),
      vocabSize: data.vocabSize,
      parameters: parameters.map(({ name, shape }) => ({ name, shape })),
      segmentLengths: segments.map((s) => s.length),
    },
    null,
    2,
  ),
);

// With --posenc-steps N: posenc trains the exported model N steps on those windows (the harness's
// plan, its schedule over the run's steps) and prints every loss, for a step-by-step comparison.
const replaySteps = Number(argument('posenc-steps', '0'));
if (replaySteps > 0) {
  const session = standardSession({ config, data, seed }, model);
  const { steps: _, ...plan } = lmHarness.training(config, data);
  await train({
    parameters: session.parameters(),
    steps: replaySteps,
    batchAt: (step) => session.batchAt(step, 0),
    loss: (batch, context) => session.loss(batch, context),
    optimizer: { lr: plan.lr, weightDecay: plan.weightDecay },
    schedule: { ...plan.schedule, totalSteps: steps },
    clipNorm: plan.clipNorm,
    seed,
    onProgress: (event) => console.log(`posenc step ${event.step} loss ${event.loss.toFixed(4)}`),
  });
}
model.dispose();
console.log(
  `export-run: ${method} seed ${seed}, ${parameters.length} parameters, ${steps} steps, ${segments.length} segments → ${out}`,
);
