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
import { decodeToFloat32, SafetensorsError } from '../io/safetensors.js';
import { readSafetensorsFile, writeSafetensorsFile } from '../io/safetensors-files.js';
import type { AdamW } from './adamw.js';
import {
  CorruptCheckpointError,
  provideCheckpointStorage,
  TRAINER_FORMAT,
  type CheckpointPointer,
  type LoadCheckpointOptions,
  type SaveCheckpointOptions,
  type TrainerRecord,
} from './checkpoint-record.js';
import { assignAll, compareWithParameters, decodeMatching, encodeTensors } from './weights.js';

export const POINTER_FILE = 'latest.json';
export const WEIGHTS_FILE = 'model.safetensors';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const TRAINER_FILE = 'trainer.json';

const STEP_FOLDER = /^step-(\d+)$/;

type Parameters = Readonly<Record<string, tf.Variable>>;

/** Writes `parameters` as F32 tensors named by their keys, atomically. */
export async function saveWeights(
  path: string,
  parameters: Parameters,
  metadata: Record<string, string> | null = null,
): Promise<void> {
  await writeSafetensorsFile(path, await encodeTensors(parameters), metadata);
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
  let pointer: Partial<CheckpointPointer>;
  try {
    pointer = JSON.parse(text) as Partial<CheckpointPointer>;
  } catch (e) {
    throw new CorruptCheckpointError(
      join(dir, POINTER_FILE),
      `is not valid JSON (${(e as Error).message})`,
    );
  }
  if (
    pointer === null ||
    !Number.isInteger(pointer.step) ||
    typeof pointer.folder !== 'string' ||
    !STEP_FOLDER.test(pointer.folder)
  )
    throw new CorruptCheckpointError(
      join(dir, POINTER_FILE),
      `is not a checkpoint pointer: ${text.slice(0, 200)}`,
    );
  return pointer as CheckpointPointer;
}

/** The pointer, or undefined when it is missing or corrupt (a resume then looks at the folders). */
async function readPointerOrNothing(dir: string): Promise<CheckpointPointer | undefined> {
  try {
    return await readCheckpointPointer(dir);
  } catch (e) {
    if (e instanceof CorruptCheckpointError) return undefined;
    throw e;
  }
}

/** Step folders in `dir`, newest first. */
async function stepFolders(dir: string): Promise<{ name: string; step: number }[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return entries
    .flatMap((name) => {
      const match = STEP_FOLDER.exec(name);
      return match ? [{ name, step: Number(match[1]) }] : [];
    })
    .sort((a, b) => b.step - a.step);
}

/** Writes a checkpoint for `record.step` and points `latest.json` at it; returns its folder. */
export async function saveCheckpoint(
  dir: string,
  { parameters, optimizer, record, keep }: SaveCheckpointOptions,
): Promise<string> {
  const folder = stepFolderName(record.step);
  const path = join(dir, folder);
  const current = await readPointerOrNothing(dir);
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

/**
 * Loads the newest checkpoint into `parameters` and `optimizer` in place and returns its record
 * and folder, or undefined when `dir` has none. Everything is read and checked first: a mismatch
 * with the model throws listing every difference and changes nothing. With `onCorrupt`, a
 * checkpoint whose files cannot be read (a corrupt `latest.json`, `trainer.json` or safetensors
 * file) is reported and the next older step folder is tried; the pointer is then moved to the
 * one that loaded, so later checkpoints are written after it.
 */
export async function loadCheckpoint(
  dir: string,
  parameters: Parameters,
  optimizer: AdamW,
  options: LoadCheckpointOptions = {},
): Promise<{ record: TrainerRecord; path: string } | undefined> {
  if (!options.onCorrupt) {
    const pointer = await readCheckpointPointer(dir);
    return pointer && loadFolder(dir, pointer, parameters, optimizer, options);
  }
  let pointer: CheckpointPointer | undefined;
  try {
    pointer = await readCheckpointPointer(dir);
  } catch (e) {
    if (!(e instanceof CorruptCheckpointError)) throw e;
    options.onCorrupt(`${e.message}; looking for the newest intact checkpoint`);
  }
  const candidates = (await stepFolders(dir))
    .filter((f) => pointer === undefined || f.step <= pointer.step)
    .map((f) => ({ step: f.step, folder: f.name }));
  if (pointer && !candidates.some((c) => c.folder === pointer!.folder)) candidates.unshift(pointer);
  for (const candidate of candidates) {
    try {
      const loaded = await loadFolder(dir, candidate, parameters, optimizer, options);
      if (candidate.folder !== pointer?.folder)
        await writeJsonAtomic(join(dir, POINTER_FILE), {
          step: candidate.step,
          folder: candidate.folder,
        } satisfies CheckpointPointer);
      return loaded;
    } catch (e) {
      if (!(e instanceof CorruptCheckpointError)) throw e;
      options.onCorrupt(`${e.message}; trying an older checkpoint`);
    }
  }
  if (pointer || candidates.length)
    options.onCorrupt(`no intact checkpoint in ${dir}; training starts from step 0`);
  return undefined;
}

/** Reads a file of a checkpoint, turning what a damaged file throws into CorruptCheckpointError. */
async function readPart<T>(path: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof SafetensorsError || e instanceof SyntaxError || e instanceof RangeError)
      throw new CorruptCheckpointError(path, `is corrupt (${(e as Error).message})`);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new CorruptCheckpointError(path, 'is missing');
    throw e;
  }
}

async function loadFolder(
  dir: string,
  pointer: CheckpointPointer,
  parameters: Parameters,
  optimizer: AdamW,
  options: LoadCheckpointOptions,
): Promise<{ record: TrainerRecord; path: string }> {
  const path = join(dir, pointer.folder);
  const trainerFile = join(path, TRAINER_FILE);
  const record = await readPart(
    trainerFile,
    async () => JSON.parse(await readFile(trainerFile, 'utf8')) as TrainerRecord,
  );
  if (record === null || record.format !== TRAINER_FORMAT || record.step !== pointer.step)
    throw new CorruptCheckpointError(
      trainerFile,
      `is not the trainer record of step ${pointer.step} (format ${TRAINER_FORMAT}): found ${record?.format} at step ${record?.step}`,
    );
  options.checkRecord?.(record, path);

  const weights = await readPart(join(path, WEIGHTS_FILE), () =>
    readSafetensorsFile(join(path, WEIGHTS_FILE)),
  );
  const { missing, unexpected, problems } = compareWithParameters(weights.tensors, parameters);
  problems.unshift(
    ...missing.map((n) => `missing in checkpoint: ${n}`),
    ...unexpected.map((n) => `not in the model: ${n}`),
  );
  if (problems.length)
    throw new Error(
      `checkpoint ${path} does not match the model's parameters:\n  ${problems.join('\n  ')}`,
    );

  const moments = await readPart(join(path, OPTIMIZER_FILE), () =>
    readSafetensorsFile(join(path, OPTIMIZER_FILE)),
  );
  for (const [file, { metadata }] of [
    [WEIGHTS_FILE, weights],
    [OPTIMIZER_FILE, moments],
  ] as const)
    if (metadata?.['step'] !== String(record.step))
      throw new CorruptCheckpointError(
        join(path, file),
        `is for step ${metadata?.['step']}, trainer.json for ${record.step}`,
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
  for (const name of await readdir(dir))
    if (name.startsWith(`${POINTER_FILE}.tmp-`)) await rm(join(dir, name), { force: true });
  const folders = await stepFolders(dir);
  const kept = new Set(
    folders
      .filter(({ step }) => step <= latestStep)
      .slice(0, keep)
      .map(({ name }) => name),
  );
  for (const { name } of folders)
    if (!kept.has(name)) await rm(join(dir, name), { recursive: true, force: true });
}

provideCheckpointStorage({
  readPointer: readCheckpointPointer,
  save: saveCheckpoint,
  load: loadCheckpoint,
});
