/**
 * Loaders of the released LRA data from folders the user gives (nothing is downloaded): each reads
 * the official layout and fails naming the file and what it expected.
 *   listops    DIR/basic_{train,test}.tsv          (lra_release/listops-1000; `Source\tTarget`)
 *   text       DIR/{train,test}/{pos,neg}/*.txt     (aclImdb, the IMDB reviews tfds builds from)
 *   retrieval  DIR/new_aan_pairs.{train,test}.tsv   (label, id1, id2, text1, text2; no header)
 *   image      DIR/data_batch_{1..5}.bin, test_batch.bin (CIFAR-10 binary version)
 *   pathfinder DIR/metadata/*.npy + the images they list (lra_release/pathfinder32/curv_contour_length_14)
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { byteTokens, type LraExample, type LraSplits } from './examples.js';
import { encodeListOps, parseListOpsTsv } from './listops.js';
import { decodePng } from './png.js';

async function firstExisting(dir: string, names: readonly string[], what: string): Promise<string> {
  for (const name of names) if (existsSync(join(dir, name))) return join(dir, name);
  throw new Error(`${what}: ${dir} holds none of ${names.join(', ')}`);
}

export async function loadListOpsFolder(dir: string, maxLength: number): Promise<LraSplits> {
  const split = async (name: string) => {
    const file = await firstExisting(dir, [`basic_${name}.tsv`, `${name}.tsv`], 'ListOps');
    return parseListOpsTsv(await readFile(file, 'utf8'), file).map((e, i): LraExample => ({
      tokens: encodeListOps(e.source, `${file} example ${i + 1}`).slice(0, maxLength),
      label: e.label,
    }));
  };
  return {
    train: await split('train'),
    test: await split('test'),
    source: `ListOps TSVs in ${dir}`,
  };
}

export async function loadImdbFolder(dir: string, maxLength: number): Promise<LraSplits> {
  const split = async (name: string) => {
    const out: LraExample[] = [];
    for (const [label, folder] of [
      [0, 'neg'],
      [1, 'pos'],
    ] as const) {
      const path = join(dir, name, folder);
      if (!existsSync(path))
        throw new Error(
          `Text (IMDB): ${path} is missing; expected aclImdb's ${name}/${folder}/*.txt`,
        );
      const files = (await readdir(path)).filter((f) => f.endsWith('.txt')).sort();
      if (files.length === 0) throw new Error(`Text (IMDB): ${path} holds no .txt review`);
      for (const f of files)
        out.push({ tokens: byteTokens(await readFile(join(path, f)), maxLength), label });
    }
    return out;
  };
  return {
    train: await split('train'),
    test: await split('test'),
    source: `IMDB reviews in ${dir}`,
  };
}

export async function loadAanFolder(dir: string, maxLength: number): Promise<LraSplits> {
  const split = async (name: string) => {
    const file = await firstExisting(dir, [`new_aan_pairs.${name}.tsv`], 'Retrieval (AAN)');
    const lines = (await readFile(file, 'utf8')).split(/\r?\n/).filter((l) => l !== '');
    return lines.map((line, i): LraExample => {
      const fields = line.split('\t');
      const label = Number(fields[0]);
      if (fields.length !== 5 || !(label === 0 || label === 1))
        throw new Error(
          `${file}: line ${i + 1} is not "label<TAB>id1<TAB>id2<TAB>text1<TAB>text2" with label 0 or 1`,
        );
      const bytes = (s: string) => byteTokens(Buffer.from(s, 'utf8'), maxLength);
      return { tokens: bytes(fields[3]!), second: bytes(fields[4]!), label };
    });
  };
  return { train: await split('train'), test: await split('test'), source: `AAN pairs in ${dir}` };
}

const CIFAR_RECORD = 1 + 3 * 1024;

/**
 * Grayscale as LRA's `tf.image.rgb_to_grayscale` on uint8: to [0, 1], ITU-R 601 weights, back with
 * convert_image_dtype's ×255.5 and truncation.
 */
export function cifarGray(record: Uint8Array): Int32Array {
  const out = new Int32Array(1024);
  for (let p = 0; p < 1024; p++) {
    const y =
      (0.2989 * record[1 + p]! + 0.587 * record[1025 + p]! + 0.114 * record[2049 + p]!) / 255;
    out[p] = Math.min(255, Math.floor(y * 255.5)) + 1;
  }
  return out;
}

export async function loadCifarFolder(dir: string): Promise<LraSplits> {
  const read = async (names: string[]) => {
    const out: LraExample[] = [];
    for (const name of names) {
      const file = join(dir, name);
      if (!existsSync(file))
        throw new Error(
          `Image (CIFAR-10): ${file} is missing; expected the binary version's batches`,
        );
      const bytes = await readFile(file);
      if (bytes.length % CIFAR_RECORD !== 0)
        throw new Error(
          `${file}: ${bytes.length} bytes is not a whole number of ${CIFAR_RECORD}-byte records`,
        );
      for (let at = 0; at < bytes.length; at += CIFAR_RECORD) {
        const record = bytes.subarray(at, at + CIFAR_RECORD);
        if (record[0]! > 9)
          throw new Error(`${file}: record ${at / CIFAR_RECORD} has label ${record[0]}`);
        out.push({ tokens: cifarGray(record), label: record[0]! });
      }
    }
    return out;
  };
  return {
    train: await read([1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`)),
    test: await read(['test_batch.bin']),
    source: `CIFAR-10 batches in ${dir}`,
  };
}

/** Released Pathfinder: metadata lines `imgs/K sample_M.png … label`; LRA's 80/10/10 split in file order. */
export async function loadPathfinderFolder(dir: string): Promise<LraSplits> {
  const metaDir = join(dir, 'metadata');
  if (!existsSync(metaDir))
    throw new Error(`Pathfinder: ${metaDir} is missing; give the curv_contour_length_14 folder`);
  const files = (await readdir(metaDir))
    .filter((f) => f.endsWith('.npy'))
    .sort((a, b) => parseInt(a) - parseInt(b) || a.localeCompare(b));
  const all: LraExample[] = [];
  for (const f of files) {
    const lines = (await readFile(join(metaDir, f), 'utf8'))
      .split('\n')
      .filter((l) => l.trim() !== '');
    for (const [i, line] of lines.entries()) {
      const fields = line.split(' ');
      const label = Number(fields[3]);
      if (fields.length < 4 || !(label === 0 || label === 1))
        throw new Error(
          `${join(metaDir, f)}: line ${i + 1} is not "folder file … label" with label 0 or 1`,
        );
      const path = join(dir, fields[0]!, fields[1]!);
      const image = decodePng(await readFile(path), path);
      all.push({ tokens: Int32Array.from(image.pixels, (v) => v + 1), label });
    }
  }
  if (all.length < 10)
    throw new Error(
      `Pathfinder: ${dir} lists ${all.length} images; need at least 10 for the split`,
    );
  const trainEnd = Math.floor(all.length * 0.8);
  const testStart = Math.floor(all.length * 0.9);
  return {
    train: all.slice(0, trainEnd),
    test: all.slice(testStart),
    source: `Pathfinder images in ${dir}`,
  };
}
