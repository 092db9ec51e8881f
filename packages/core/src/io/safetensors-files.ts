/**
 * safetensors files on disk (Node only): positional reads that never hold a whole file in one
 * allocation, and atomic writes. The format itself, on bytes, is `./safetensors.ts`.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  LENGTH_PREFIX_BYTES,
  parseHeader,
  prepareSafetensors,
  readHeaderLength,
  SafetensorsError,
  selectTensors,
  type ReadSafetensorsOptions,
  type SafetensorsContents,
  type SafetensorsHeader,
  type TensorEntry,
} from './safetensors.js';
import { provideSafetensorsFileReader } from './safetensors-source.js';

/**
 * Reads a file: the header first, validated against the file size, then each tensor into its own
 * buffer with positional reads, so the whole file is never held in one allocation and every
 * tensor's data starts at offset 0 of its own buffer (aligned for any element type).
 */
export async function readSafetensorsFile(
  path: string,
  options: ReadSafetensorsOptions = {},
): Promise<SafetensorsContents> {
  return withFile(path, async (file) => {
    const header = await readHeaderFromFile(file);
    const tensors = new Map<string, TensorEntry>();
    for (const info of selectTensors(header.tensors, options.names)) {
      const data = await readExactly(file, header.dataStart + info.begin, info.end - info.begin);
      tensors.set(info.name, { dtype: info.dtype, shape: info.shape, data });
    }
    return { metadata: header.metadata, tensors };
  });
}

/** Reads and validates only the header (metadata, names, dtypes, shapes, offsets). */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  return withFile(path, readHeaderFromFile);
}

async function withFile<T>(path: string, use: (file: FileHandle) => Promise<T>): Promise<T> {
  const file = await open(path, 'r');
  try {
    return await use(file);
  } catch (error) {
    // The format code knows byte offsets and tensor names; the caller also needs the file.
    throw error instanceof SafetensorsError
      ? new SafetensorsError(error.kind, `${path}: ${error.message}`)
      : error;
  } finally {
    await file.close();
  }
}

async function readHeaderFromFile(file: FileHandle): Promise<SafetensorsHeader> {
  const { size } = await file.stat();
  const prefix = await readExactly(file, 0, Math.min(size, LENGTH_PREFIX_BYTES));
  const headerLength = readHeaderLength(prefix, size);
  return parseHeader(await readExactly(file, 0, LENGTH_PREFIX_BYTES + headerLength), size);
}

/** Node caps a single read or write at 2 GiB - 1; stay well under it. */
const MAX_IO_CHUNK = 1 << 30;

async function readExactly(
  file: FileHandle,
  position: number,
  length: number,
): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await file.read(
      buffer,
      filled,
      Math.min(length - filled, MAX_IO_CHUNK),
      position + filled,
    );
    if (bytesRead === 0) {
      throw new SafetensorsError(
        'MetadataIncompleteBuffer',
        `the file ended at byte ${position + filled} while reading bytes ${position}..${position + length}; it was truncated while being read`,
      );
    }
    filled += bytesRead;
  }
  return buffer;
}

/**
 * Writes a file atomically: everything goes to a temp file beside `path`, which is fsynced and
 * then renamed over `path`. Entries are validated before anything touches the disk; on any
 * failure the temp file is removed and an existing `path` is left as it was.
 */
export async function writeSafetensorsFile(
  path: string,
  tensors: Record<string, TensorEntry>,
  metadata: Record<string, string> | null = null,
): Promise<void> {
  const { head, chunks } = prepareSafetensors(tensors, metadata);
  const tempPath = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let file: FileHandle | undefined;
  try {
    file = await open(tempPath, 'wx');
    await writeAll(file, head);
    for (const chunk of chunks) await writeAll(file, chunk);
    await file.sync();
    await file.close();
    file = undefined;
    await rename(tempPath, path);
  } catch (error) {
    // The write error is the one worth reporting; a failing close on the way out adds nothing.
    await file?.close().catch(() => undefined);
    await rm(tempPath, { force: true });
    throw error;
  }
}

async function writeAll(file: FileHandle, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await file.write(
      bytes,
      written,
      Math.min(bytes.length - written, MAX_IO_CHUNK),
    );
    written += bytesWritten;
  }
}

provideSafetensorsFileReader((path) =>
  readSafetensorsFile(path instanceof URL ? fileURLToPath(path) : path),
);
