/**
 * `--init DIR`: the checkpoint a cell starts from instead of a random initialisation. Two kinds:
 * a Hugging Face RoFormer folder (`config.json` with `model_type: roformer` and
 * `model.safetensors` in HF's names, loaded through @posenc/roformer's loader into its RoFormer
 * model), or one of ours (a `model.safetensors` in our parameter names, or a checkpoints folder
 * whose `latest.json` points at one: any posenc cell's). The tensors are read with the data, so
 * building a cell's model stays synchronous.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeToFloat32,
  POINTER_FILE,
  readCheckpointPointer,
  readSafetensorsFile,
  tf,
  WEIGHTS_FILE,
  type TensorEntry,
} from '@posenc/core';
import { UsageError } from '../../../usage-error.js';

export type InitKind = 'roformer' | 'posenc';

export interface InitCheckpoint {
  kind: InitKind;
  dir: string;
  /** The weights file read. */
  file: string;
  tensors: ReadonlyMap<string, TensorEntry>;
  /** HF `config.json` of a RoFormer checkpoint. */
  hfConfig?: Record<string, unknown>;
}

/** What `dir` holds, checked without reading the weights; throws UsageError naming what is missing. */
export function initKind(dir: string): InitKind {
  const config = join(dir, 'config.json');
  if (existsSync(config)) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(config, 'utf8'));
    } catch (e) {
      throw new UsageError(
        `--init ${dir}: config.json is not valid JSON (${(e as Error).message})`,
      );
    }
    const type = (json as { model_type?: unknown }).model_type;
    if (type !== 'roformer')
      throw new UsageError(
        `--init ${dir}: config.json has model_type ${JSON.stringify(type)}; only roformer checkpoints in Hugging Face names load here`,
      );
    if (!existsSync(join(dir, 'model.safetensors')))
      throw new UsageError(`--init ${dir}: missing file ${join(dir, 'model.safetensors')}`);
    return 'roformer';
  }
  if (existsSync(join(dir, POINTER_FILE)) || existsSync(join(dir, WEIGHTS_FILE))) return 'posenc';
  throw new UsageError(
    `--init ${dir}: expected an HF RoFormer folder (config.json + model.safetensors) or a posenc checkpoint (${WEIGHTS_FILE} or ${POINTER_FILE})`,
  );
}

export async function readInitCheckpoint(dir: string): Promise<InitCheckpoint> {
  const kind = initKind(dir);
  let file = join(dir, 'model.safetensors');
  let hfConfig: Record<string, unknown> | undefined;
  if (kind === 'roformer')
    hfConfig = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
  else if (!existsSync(join(dir, WEIGHTS_FILE))) {
    const pointer = await readCheckpointPointer(dir);
    if (!pointer) throw new UsageError(`--init ${dir}: ${POINTER_FILE} points at no checkpoint`);
    file = join(dir, pointer.folder, WEIGHTS_FILE);
  }
  const { tensors } = await readSafetensorsFile(file);
  return { kind, dir, file, tensors, ...(hfConfig && { hfConfig }) };
}

export interface AssignReport {
  loaded: string[];
  /** Parameters the checkpoint has no tensor for (kept as initialised: a new head). */
  missing: string[];
  /** Tensors that match no parameter (ignored: another task's head). */
  unexpected: string[];
}

/**
 * Our checkpoint into `parameters` by name. A tensor whose shape differs from its parameter's is
 * an error (another model size); parameters it lacks keep their initialisation.
 */
export function assignOwnWeights(
  init: InitCheckpoint,
  parameters: Readonly<Record<string, tf.Variable>>,
): AssignReport {
  const loaded: string[] = [];
  const problems: string[] = [];
  for (const [name, entry] of init.tensors) {
    const p = parameters[name];
    if (!p) continue;
    if (entry.shape.join() !== p.shape.join())
      problems.push(`${name}: [${entry.shape}] in the file, [${p.shape}] here`);
    else loaded.push(name);
  }
  if (problems.length)
    throw new Error(`--init ${init.file} does not fit this model:\n  ${problems.join('\n  ')}`);
  if (loaded.length === 0)
    throw new Error(
      `--init ${init.file}: no tensor matches a parameter of this model (is it another method's?)`,
    );
  tf.tidy(() => {
    for (const name of loaded)
      parameters[name]!.assign(
        tf.tensor(decodeToFloat32(init.tensors.get(name)!), parameters[name]!.shape),
      );
  });
  return {
    loaded,
    missing: Object.keys(parameters).filter((n) => !init.tensors.has(n)),
    unexpected: [...init.tensors.keys()].filter((n) => !(n in parameters)),
  };
}
