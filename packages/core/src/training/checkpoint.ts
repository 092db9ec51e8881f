/**
 * Weights and training checkpoints on disk, as safetensors keyed by parameter name.
 *
 * Layout of a checkpoint directory:
 *
 *   <dir>/latest.json                     {"step": 200, "folder": "step-00000200"}
 *   <dir>/step-00000200/model.safetensors     parameters by name, __metadata__.step
 *   <dir>/step-00000200/optimizer.safetensors m.<name>, v.<name>, __metadata__.step
 *   <dir>/step-00000200/trainer.json          step, seed, config, loss history
 *
 * Why a crash at any point leaves a consistent checkpoint: `latest.json` is the only thing a
 * resume reads first, and it only ever names a folder whose three files are complete. Each file
 * goes to a temp file, is fsynced and renamed into place (rename is atomic on POSIX), so a file
 * is either absent, old or whole. A checkpoint is written into its own step folder, trainer.json
 * last, the folder is fsynced, and only then is `latest.json` replaced the same way. A crash
 * before that rename leaves `latest.json` naming the previous folder, which is never written to
 * again (a folder the pointer names is never overwritten, and old folders are deleted only after
 * the pointer has moved past them). A crash after it leaves the new checkpoint in place.
 */
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tf } from '../engine/tf.js';
import {
  decodeToFloat32,
  encodeTensorEntry,
  readSafetensorsFile,
  writeSafetensorsFile,
  type TensorEntry,
} from '../io/safetensors.js';
import { sameShape, type AdamW } from './adamw.js';

export const POINTER_FILE = 'latest.json';
export const WEIGHTS_FILE = 'model.safetensors';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const TRAINER_FILE = 'trainer.json';

export const TRAINER_FORMAT = 'posenc-trainer/1';
const STEP_FOLDER = /^step-(\d+)$/;

type Parameters = Readonly<Record<string, tf.Variable>>;

/** Contents of trainer.json. */
export interface TrainerRecord {
  format: typeof TRAINER_FORMAT;
  /** Optimizer updates completed; the next step to run. */
  step: number;
  seed: number;
  /** The validated trainer options (numbers, strings and the optimizer and schedule configs). */
  config: Record<string, unknown>;
  /** `lossHistory[s]` is the mean loss of step `s`, for every step before `step`. */
  lossHistory: number[];
}

export interface CheckpointPointer {
  step: number;
  folder: string;
}

// ---------------------------------------------------------------------------------------------
// Weights
// ---------------------------------------------------------------------------------------------

/** Writes `parameters` as F32 tensors named by their keys, atomically. */
export async function saveWeights(
  path: string,
  parameters: Parameters,
  metadata: Record<string, string> | null = null,
): Promise<void> {
  await writeSafetensorsFile(path, await encodeTensors(parameters), metadata);
}

export interface LoadWeightsOptions {
  /** When true (default), names present on one side only are an error; when false they are reported. */
  strict?: boolean;
}

export interface LoadedWeights {
  metadata: Record<string, string> | null;
  /** Parameters the file has no tensor for (left unchanged). */
  missing: string[];
  /** Tensors in the file that match no parameter (ignored). */
  unexpected: string[];
}

/**
 * Assigns the tensors of a safetensors file to `parameters` in place (any float dtype is
 * converted to float32). Nothing is assigned unless every name and shape checks out; a mismatch
 * lists all differences.
 */
export async function loadWeights(
  path: string,
  parameters: Parameters,
  options: LoadWeightsOptions = {},
): Promise<LoadedWeights> {
  const { metadata, tensors } = await readSafetensorsFile(path);
  const { missing, unexpected, problems } = compareWithParameters(tensors, parameters);
  if (options.strict ?? true) {
    problems.unshift(
      ...missing.map((n) => `missing in file: ${n}`),
      ...unexpected.map((n) => `not a parameter: ${n}`),
    );
  }
  if (problems.length)
    throw new Error(`weights ${path} do not match the parameters:\n  ${problems.join('\n  ')}`);
  assignAll(parameters, decodeMatching(tensors, parameters));
  return { metadata, missing, unexpected };
}

// ---------------------------------------------------------------------------------------------
// Training checkpoints
// ---------------------------------------------------------------------------------------------

export function stepFolderName(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

/** The pointer to the latest complete checkpoint, or undefined when `dir` has none yet. */
export async function readCheckpointPointer(dir: string): Promise<CheckpointPointer | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, POINTER_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const pointer = JSON.parse(text) as Partial<CheckpointPointer>;
  if (
    !Number.isInteger(pointer.step) ||
    typeof pointer.folder !== 'string' ||
    !STEP_FOLDER.test(pointer.folder)
  )
    throw new Error(`${join(dir, POINTER_FILE)} is not a checkpoint pointer: ${text}`);
  return pointer as CheckpointPointer;
}

export interface SaveCheckpointOptions {
  parameters: Parameters;
  optimizer: AdamW;
  record: TrainerRecord;
  /** How many step folders to keep, the new one included. */
  keep: number;
}

/** Writes a checkpoint for `record.step` and points `latest.json` at it; returns its folder. */
export async function saveCheckpoint(
  dir: string,
  { parameters, optimizer, record, keep }: SaveCheckpointOptions,
): Promise<string> {
  const folder = stepFolderName(record.step);
  const path = join(dir, folder);
  const current = await readCheckpointPointer(dir);
  if (current?.folder === folder)
    throw new Error(`checkpoint ${path} is the latest one and is not overwritten`);
  // Leftovers of an interrupted save of this step were never pointed to; start clean.
  await rm(path, { recursive: true, force: true });
  await mkdir(path, { recursive: true });

  const stepMetadata = { step: String(record.step) };
  const state = optimizer.exportState();
  if (state.step !== record.step)
    throw new Error(
      `optimizer has made ${state.step} updates but the checkpoint is for step ${record.step}`,
    );
  await saveWeights(join(path, WEIGHTS_FILE), parameters, stepMetadata);
  await writeSafetensorsFile(
    join(path, OPTIMIZER_FILE),
    await encodeTensors(state.tensors),
    stepMetadata,
  );
  await writeJsonAtomic(join(path, TRAINER_FILE), record);
  await fsyncDirectory(path);

  await writeJsonAtomic(join(dir, POINTER_FILE), {
    step: record.step,
    folder,
  } satisfies CheckpointPointer);
  await fsyncDirectory(dir);
  await pruneStepFolders(dir, record.step, keep);
  return path;
}

export interface LoadCheckpointOptions {
  /** Called with trainer.json before anything is loaded; throw to refuse the checkpoint. */
  checkRecord?: (record: TrainerRecord, path: string) => void;
}

/**
 * Loads the latest checkpoint into `parameters` and `optimizer` in place and returns its record
 * and folder, or undefined when `dir` has no checkpoint. Everything is read and checked first:
 * a mismatch with the model throws listing every difference and changes nothing.
 */
export async function loadCheckpoint(
  dir: string,
  parameters: Parameters,
  optimizer: AdamW,
  options: LoadCheckpointOptions = {},
): Promise<{ record: TrainerRecord; path: string } | undefined> {
  const pointer = await readCheckpointPointer(dir);
  if (!pointer) return undefined;
  const path = join(dir, pointer.folder);
  const record = JSON.parse(await readFile(join(path, TRAINER_FILE), 'utf8')) as TrainerRecord;
  if (record.format !== TRAINER_FORMAT || record.step !== pointer.step)
    throw new Error(
      `${join(path, TRAINER_FILE)}: expected format ${TRAINER_FORMAT} at step ${pointer.step}, found ${record.format} at step ${record.step}`,
    );
  options.checkRecord?.(record, path);

  const weights = await readSafetensorsFile(join(path, WEIGHTS_FILE));
  const { missing, unexpected, problems } = compareWithParameters(weights.tensors, parameters);
  problems.unshift(
    ...missing.map((n) => `missing in checkpoint: ${n}`),
    ...unexpected.map((n) => `not in the model: ${n}`),
  );
  if (problems.length)
    throw new Error(
      `checkpoint ${path} does not match the model's parameters:\n  ${problems.join('\n  ')}`,
    );

  const moments = await readSafetensorsFile(join(path, OPTIMIZER_FILE));
  for (const [file, { metadata }] of [
    [WEIGHTS_FILE, weights],
    [OPTIMIZER_FILE, moments],
  ] as const)
    if (metadata?.['step'] !== String(record.step))
      throw new Error(
        `${join(path, file)} is for step ${metadata?.['step']}, trainer.json for ${record.step}`,
      );
  const values = decodeMatching(weights.tensors, parameters);
  const momentTensors: Record<string, tf.Tensor> = {};
  for (const [name, entry] of moments.tensors)
    momentTensors[name] = tf.tensor(decodeToFloat32(entry), entry.shape, 'float32');
  try {
    optimizer.importState({ step: record.step, tensors: momentTensors }, parameters);
  } catch (e) {
    throw new Error(`checkpoint ${path}: ${(e as Error).message}`, { cause: e });
  } finally {
    tf.dispose(Object.values(momentTensors));
  }
  assignAll(parameters, values);
  return { record, path };
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

async function encodeTensors(
  tensors: Readonly<Record<string, tf.Tensor>>,
): Promise<Record<string, TensorEntry>> {
  const entries: Record<string, TensorEntry> = {};
  for (const [name, tensor] of Object.entries(tensors)) {
    if (tensor.dtype !== 'float32')
      throw new Error(`tensor '${name}' is ${tensor.dtype}; only float32 is stored`);
    entries[name] = encodeTensorEntry((await tensor.data()) as Float32Array, tensor.shape, 'F32');
  }
  return entries;
}

function compareWithParameters(
  tensors: ReadonlyMap<string, TensorEntry>,
  parameters: Parameters,
): { missing: string[]; unexpected: string[]; problems: string[] } {
  const missing = Object.keys(parameters).filter((name) => !tensors.has(name));
  const unexpected = [...tensors.keys()].filter((name) => !(name in parameters));
  const problems: string[] = [];
  for (const [name, entry] of tensors) {
    const param = parameters[name];
    if (param && !sameShape(param.shape, entry.shape))
      problems.push(
        `shape of ${name}: [${entry.shape}] in the file, [${param.shape}] in the model`,
      );
  }
  return { missing, unexpected, problems };
}

function decodeMatching(
  tensors: ReadonlyMap<string, TensorEntry>,
  parameters: Parameters,
): Map<string, Float32Array> {
  const values = new Map<string, Float32Array>();
  for (const [name, entry] of tensors)
    if (name in parameters) values.set(name, decodeToFloat32(entry));
  return values;
}

function assignAll(parameters: Parameters, values: ReadonlyMap<string, Float32Array>): void {
  for (const [name, data] of values) {
    const param = parameters[name]!;
    tf.tidy(() => param.assign(tf.tensor(data, param.shape, 'float32')));
  }
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tempPath = `${path}.tmp-${process.pid}`;
  const file = await open(tempPath, 'w');
  try {
    await file.writeFile(JSON.stringify(value, null, 1) + '\n', 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tempPath, path);
}

/** Makes renames inside `dir` durable; Windows cannot open directories and commits renames itself. */
async function fsyncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Keeps the `keep` newest step folders up to `latestStep` and deletes the rest, including any
 * folder beyond it: those come from a run that was interrupted before the pointer named them,
 * as do pointer temp files of other processes.
 */
async function pruneStepFolders(dir: string, latestStep: number, keep: number): Promise<void> {
  const entries = await readdir(dir);
  for (const name of entries)
    if (name.startsWith(`${POINTER_FILE}.tmp-`)) await rm(join(dir, name), { force: true });
  const folders = entries
    .flatMap((name) => {
      const match = STEP_FOLDER.exec(name);
      return match ? [{ name, step: Number(match[1]) }] : [];
    })
    .sort((a, b) => b.step - a.step);
  const kept = new Set(
    folders
      .filter(({ step }) => step <= latestStep)
      .slice(0, keep)
      .map(({ name }) => name),
  );
  for (const { name } of folders)
    if (!kept.has(name)) await rm(join(dir, name), { recursive: true, force: true });
}
