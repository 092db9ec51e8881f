/**
 * The loaders of the released LRA data on files in the official layouts (fixtures/lra), and their
 * errors on files that are not: each names the file, the line or record, and what was expected.
 */
import { mkdtemp, readFile, rm, writeFile, mkdir, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LRA_FIXTURES } from '../../../testing/paths.js';
import { LISTOPS_VOCABULARY } from './listops.js';
import { decodePng, encodeGrayPng } from './png.js';
import {
  cifarGray,
  loadAanFolder,
  loadCifarFolder,
  loadImdbFolder,
  loadListOpsFolder,
  loadPathfinderFolder,
} from './released.js';

const fixture = (path: string) => join(LRA_FIXTURES, path);
const ids = (tokens: string) => tokens.split(' ').map((t) => LISTOPS_VOCABULARY.indexOf(t) + 1);
const bytes = (text: string) => Array.from(Buffer.from(text, 'utf8'), (b) => b + 1);

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'posenc-lra-released-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('ListOps TSVs (lra_release/listops-1000)', () => {
  it('reads basic_train and basic_test with the fixed tokenizer (brackets kept)', async () => {
    const data = await loadListOpsFolder(fixture('listops'), 2000);
    expect(data.train.map((e) => e.label)).toEqual([9, 4, 2, 0]);
    expect(data.test.map((e) => e.label)).toEqual([5, 7]);
    expect(Array.from(data.train[0]!.tokens)).toEqual(ids('[MAX 2 9 X'));
    expect(Array.from(data.train[1]!.tokens)).toEqual(ids('[MIN 4 [SM 8 7 1 X 5 X'));
  });

  it('cuts examples at the maximum length', async () => {
    const data = await loadListOpsFolder(fixture('listops'), 3);
    expect(Array.from(data.train[1]!.tokens)).toEqual(ids('[MIN 4 [SM'));
  });

  it('names the folder when the files are missing, and the file and line of a bad row', async () => {
    await expect(loadListOpsFolder(scratch, 100)).rejects.toThrow(
      `ListOps: ${scratch} holds none of basic_train.tsv, train.tsv`,
    );
    const dir = join(scratch, 'listops-bad');
    await mkdir(dir);
    await writeFile(join(dir, 'basic_train.tsv'), 'Source\tTarget\n( [MAX 2 ] )\tnine\n');
    await expect(loadListOpsFolder(dir, 100)).rejects.toThrow(
      /basic_train\.tsv: line 2 is not "expression<TAB>label 0–9"/,
    );
  });
});

describe('Text (aclImdb)', () => {
  it('reads the reviews as bytes + 1, neg = 0 and pos = 1, in file order', async () => {
    const data = await loadImdbFolder(fixture('aclImdb'), 1000);
    expect(data.train.map((e) => e.label)).toEqual([0, 1, 1]);
    expect(data.test.map((e) => e.label)).toEqual([0, 1]);
    expect(Array.from(data.test[1]!.tokens)).toEqual(bytes('Wonderful.'));
    // UTF-8 is read as bytes: é is two tokens.
    const cafe = data.train[2]!.tokens;
    expect(cafe).toHaveLength(Buffer.byteLength('Loved it: café scenes <br /><br />and all.'));
    const cut = await loadImdbFolder(fixture('aclImdb'), 4);
    expect(Array.from(cut.train[0]!.tokens)).toEqual(bytes('Two '));
  });

  it('names a missing split folder', async () => {
    await expect(loadImdbFolder(scratch, 10)).rejects.toThrow(
      `Text (IMDB): ${join(scratch, 'train', 'neg')} is missing; expected aclImdb's train/neg/*.txt`,
    );
  });
});

describe('Retrieval (new_aan_pairs)', () => {
  it('reads pairs of documents as bytes, labels written as floats', async () => {
    const data = await loadAanFolder(fixture('aan'), 4000);
    expect(data.train.map((e) => e.label)).toEqual([1, 0]);
    expect(data.test.map((e) => e.label)).toEqual([0, 1]);
    expect(Array.from(data.train[0]!.tokens)).toEqual(bytes('Neural nets for parsing.'));
    expect(Array.from(data.train[1]!.second!)).toEqual(bytes('Über Morphologie.'));
    const cut = await loadAanFolder(fixture('aan'), 5);
    expect(cut.test[1]!.second).toHaveLength(5);
  });

  it('refuses a row without five fields, naming the file and line', async () => {
    const dir = join(scratch, 'aan-bad');
    await mkdir(dir);
    await writeFile(join(dir, 'new_aan_pairs.train.tsv'), '1.0\ta\tb\tonly one text\n');
    await expect(loadAanFolder(dir, 10)).rejects.toThrow(
      /new_aan_pairs\.train\.tsv: line 1 is not "label<TAB>id1<TAB>id2<TAB>text1<TAB>text2" with label 0 or 1/,
    );
  });
});

describe('Image (cifar-10-batches-bin)', () => {
  it('reads every record of the five batches and the test batch, in grayscale as LRA does', async () => {
    const data = await loadCifarFolder(fixture('cifar-10-batches-bin'));
    expect(data.train.map((e) => e.label)).toEqual([1, 8, 2, 7, 3, 6, 4, 5, 5, 4]);
    expect(data.test.map((e) => e.label)).toEqual([3, 7]);
    // tf.image.rgb_to_grayscale on uint8: floor(255.5 · (0.2989 R + 0.587 G + 0.114 B) / 255).
    const gray = (e: { tokens: Int32Array }) => {
      expect(new Set(e.tokens).size).toBe(1);
      return e.tokens[0]! - 1;
    };
    expect(
      data.train
        .slice(0, 8)
        .filter((_, i) => i % 2 === 0)
        .map(gray),
    ).toEqual([76, 149, 29, 255]);
    expect(gray(data.test[1]!)).toBe(18);
    expect(data.train[0]!.tokens).toHaveLength(1024);
  });

  it('reads planes in order R, G, B', () => {
    const record = new Uint8Array(1 + 3 * 1024);
    record[1 + 5] = 255; // red of pixel 5
    record[1 + 1024 + 6] = 255; // green of pixel 6
    record[1 + 2048 + 7] = 255; // blue of pixel 7
    const g = cifarGray(record);
    expect([g[5]! - 1, g[6]! - 1, g[7]! - 1, g[8]! - 1]).toEqual([76, 149, 29, 0]);
  });

  it('refuses a truncated batch and a missing one, naming the file', async () => {
    const dir = join(scratch, 'cifar-bad');
    await cp(fixture('cifar-10-batches-bin'), dir, { recursive: true });
    const batch = await readFile(join(dir, 'data_batch_3.bin'));
    await writeFile(join(dir, 'data_batch_3.bin'), batch.subarray(0, 5000));
    await expect(loadCifarFolder(dir)).rejects.toThrow(
      /data_batch_3\.bin: 5000 bytes is not a whole number of 3073-byte records/,
    );
    await rm(join(dir, 'data_batch_3.bin'));
    await expect(loadCifarFolder(dir)).rejects.toThrow(
      /data_batch_3\.bin is missing; expected the binary version's batches/,
    );
  });
});

describe('Pathfinder (curv_contour_length_14)', () => {
  it('reads the images the metadata lists, split 80/10/10 in file order', async () => {
    const data = await loadPathfinderFolder(fixture('pathfinder/curv_contour_length_14'));
    const expected = await readFile(fixture('pathfinder/expected-pixels.bin'));
    expect(data.train.map((e) => e.label)).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
    expect(data.test.map((e) => e.label)).toEqual([1]);
    data.train.forEach((e, k) =>
      expect(Array.from(e.tokens)).toEqual(
        Array.from(expected.subarray(k * 1024, (k + 1) * 1024), (p) => p + 1),
      ),
    );
    expect(Array.from(data.test[0]!.tokens)).toEqual(
      Array.from(expected.subarray(9 * 1024), (p) => p + 1),
    );
  });

  it('refuses a folder without metadata and a line without a label', async () => {
    await expect(loadPathfinderFolder(scratch)).rejects.toThrow(
      `Pathfinder: ${join(scratch, 'metadata')} is missing; give the curv_contour_length_14 folder`,
    );
    const dir = join(scratch, 'pathfinder-bad');
    await mkdir(join(dir, 'metadata'), { recursive: true });
    await writeFile(join(dir, 'metadata', '0.npy'), 'imgs/0 sample_0.png 0\n');
    await expect(loadPathfinderFolder(dir)).rejects.toThrow(
      /0\.npy: line 1 is not "folder file … label" with label 0 or 1/,
    );
  });
});

describe('PNG codec', () => {
  it('round-trips grayscale and refuses what is not a PNG it reads', () => {
    const pixels = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
    const png = encodeGrayPng({ width: 4, height: 3, pixels });
    expect(decodePng(png, 'x.png')).toEqual({ width: 4, height: 3, pixels });
    expect(() => decodePng(new Uint8Array([1, 2, 3]), 'bad.png')).toThrow(
      'bad.png: not a PNG file (bad signature)',
    );
    const sixteenBit = Buffer.from(png);
    sixteenBit[8 + 8 + 8] = 16; // IHDR bit depth
    expect(() => decodePng(sixteenBit, 'deep.png')).toThrow(/deep\.png: PNG with bit depth 16/);
  });
});
