/**
 * Golden cases as the shared folder holds them: one safetensors file per case, its settings in
 * `__metadata__.config`. Tests list the files present, never a list of names of their own.
 */
import { readdirSync } from 'node:fs';
import { tf } from '../engine/tf.js';
import { decodeToFloat32, type TensorEntry } from '../io/safetensors.js';
import { readSafetensorsFile } from '../io/safetensors-files.js';
import { goldenPath } from './golden.js';

export interface GoldenCase {
  /** File name inside its folder, e.g. `offset.safetensors`. */
  readonly file: string;
  /** `__metadata__.config`, parsed. */
  readonly config: Record<string, unknown>;
  /** `__metadata__.note`: what to watch, if the case says. */
  readonly note: string;
  readonly entries: ReadonlyMap<string, TensorEntry>;
}

/** The `*.safetensors` files of a golden folder, sorted; throws if there are none. */
export function goldenCaseFiles(...folder: string[]): string[] {
  const path = goldenPath(...folder);
  const files = readdirSync(path)
    .filter((f) => f.endsWith('.safetensors'))
    .sort();
  if (files.length === 0) throw new Error(`golden folder ${path} holds no .safetensors case`);
  return files;
}

/** Reads one case; its config must be in the file. */
export async function readGoldenCase(folder: string, file: string): Promise<GoldenCase> {
  const path = goldenPath(folder, file);
  const contents = await readSafetensorsFile(path);
  const metadata = contents.metadata ?? {};
  const config = metadata['config'];
  if (config === undefined) throw new Error(`golden case ${path} has no __metadata__.config`);
  return {
    file,
    config: JSON.parse(config) as Record<string, unknown>,
    note: metadata['note'] ?? '',
    entries: contents.tensors,
  };
}

export function goldenEntry(c: GoldenCase, name: string): TensorEntry {
  const e = c.entries.get(name);
  if (!e)
    throw new Error(
      `golden case ${c.file} has no tensor '${name}'; it has ${[...c.entries.keys()].join(', ')}`,
    );
  return e;
}

/** Values at full precision: F64 as stored, other dtypes widened from float32. */
export function goldenValues(e: TensorEntry): Float64Array {
  if (e.dtype === 'F64')
    return new Float64Array(
      e.data.buffer.slice(e.data.byteOffset, e.data.byteOffset + e.data.byteLength),
    );
  return Float64Array.from(decodeToFloat32(e));
}

/** A float32 tensor of the entry's values and shape. */
export function goldenTensor(e: TensorEntry): tf.Tensor {
  return tf.tensor(decodeToFloat32(e), e.shape, 'float32');
}
