/**
 * Reads a golden case: its tensors (float64 expected values kept at full precision) and the
 * JSON config in `__metadata__.config`.
 */
import { decodeToFloat32, readSafetensorsFile, tf, type TensorEntry } from '@posenc/core';
import { goldenPath } from '@posenc/core/testing';

export interface GoldenCase {
  readonly config: Record<string, unknown>;
  readonly note: string;
  readonly entries: Map<string, TensorEntry>;
}

export async function readGoldenCase(...parts: string[]): Promise<GoldenCase> {
  const file = await readSafetensorsFile(goldenPath(...parts));
  const metadata = file.metadata ?? {};
  return {
    config: JSON.parse(metadata['config'] ?? '{}') as Record<string, unknown>,
    note: metadata['note'] ?? '',
    entries: file.tensors,
  };
}

export function entry(c: GoldenCase, name: string): TensorEntry {
  const e = c.entries.get(name);
  if (!e)
    throw new Error(
      `golden case has no tensor '${name}'; it has ${[...c.entries.keys()].join(', ')}`,
    );
  return e;
}

/** Values at full precision: F64 viewed as stored, others widened from float32. */
export function goldenValues(e: TensorEntry): Float64Array {
  if (e.dtype === 'F64')
    return new Float64Array(
      e.data.buffer.slice(e.data.byteOffset, e.data.byteOffset + e.data.byteLength),
    );
  return Float64Array.from(decodeToFloat32(e));
}

export function goldenTensor(e: TensorEntry): tf.Tensor {
  return tf.tensor(decodeToFloat32(e), e.shape, 'float32');
}

export { maxAbsDiff } from '@posenc/core/testing';
