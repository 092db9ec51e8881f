/**
 * A small PNG codec for the image tasks' files: decoding of non-interlaced 8-bit grayscale,
 * grayscale + alpha, RGB and RGBA images (the released Pathfinder images are 8-bit grayscale) to
 * grayscale, and encoding of 8-bit grayscale (test fixtures in the real format).
 */
import { deflateSync, inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

export interface GrayImage {
  readonly width: number;
  readonly height: number;
  /** Row-major luminance 0–255 (RGB as ITU-R 601, like tf.image.rgb_to_grayscale). */
  readonly pixels: Uint8Array;
}

export function decodePng(bytes: Uint8Array, file: string): GrayImage {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 8 || !buf.subarray(0, 8).equals(SIGNATURE))
    throw new Error(`${file}: not a PNG file (bad signature)`);
  let offset = 8;
  let width = 0;
  let height = 0;
  let colorType = -1;
  const data: Buffer[] = [];
  while (offset + 8 <= buf.length) {
    const length = buf.readUInt32BE(offset);
    const type = buf.toString('latin1', offset + 4, offset + 8);
    const body = buf.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [depth, color, , , interlace] = [body[8], body[9], body[10], body[11], body[12]];
      if (depth !== 8 || CHANNELS[color!] === undefined || interlace !== 0)
        throw new Error(
          `${file}: PNG with bit depth ${depth}, color type ${color}, interlace ${interlace}; supported: 8-bit gray, gray+alpha, RGB, RGBA, not interlaced`,
        );
      colorType = color!;
    } else if (type === 'IDAT') data.push(body);
    else if (type === 'IEND') break;
    offset += 12 + length;
  }
  if (colorType < 0 || data.length === 0) throw new Error(`${file}: PNG without IHDR or IDAT`);
  const channels = CHANNELS[colorType]!;
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  if (raw.length !== height * (stride + 1))
    throw new Error(`${file}: PNG data is ${raw.length} bytes, expected ${height * (stride + 1)}`);
  const rows = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const at = y * stride;
    for (let i = 0; i < stride; i++) {
      const left = i >= channels ? rows[at + i - channels]! : 0;
      const up = y > 0 ? rows[at - stride + i]! : 0;
      const corner = y > 0 && i >= channels ? rows[at - stride + i - channels]! : 0;
      let predicted: number;
      switch (filter) {
        case 0:
          predicted = 0;
          break;
        case 1:
          predicted = left;
          break;
        case 2:
          predicted = up;
          break;
        case 3:
          predicted = (left + up) >> 1;
          break;
        case 4: {
          const p = left + up - corner;
          const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - corner)];
          predicted = pa <= pb && pa <= pc ? left : pb <= pc ? up : corner;
          break;
        }
        default:
          throw new Error(`${file}: PNG row ${y} has filter type ${filter}`);
      }
      rows[at + i] = (src[i]! + predicted) & 255;
    }
  }
  const pixels = new Uint8Array(width * height);
  for (let p = 0; p < width * height; p++) {
    const base = p * channels;
    pixels[p] =
      channels <= 2
        ? rows[base]!
        : Math.round(0.2989 * rows[base]! + 0.587 * rows[base + 1]! + 0.114 * rows[base + 2]!);
  }
  return { width, height, pixels };
}

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** An 8-bit grayscale PNG (filter 0 on every row). */
export function encodeGrayPng(image: GrayImage): Buffer {
  const { width, height, pixels } = image;
  const raw = Buffer.alloc(height * (width + 1));
  for (let y = 0; y < height; y++)
    raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const chunk = (type: string, body: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
