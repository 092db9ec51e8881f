/**
 * Lines of a UTF-8 file, streamed: WikiText-103's training file (540 MB) is longer than the
 * longest string V8 can hold, so it is never read whole.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';

/**
 * Every line without its line break (`\n` or `\r\n`); a final line break does not start an extra
 * empty line, as in Python's `for line in file`.
 */
export async function* readLines(path: string): AsyncGenerator<string> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of lines) yield line;
  } finally {
    lines.close();
    stream.destroy();
  }
}

export interface ByteLine {
  /** The line decoded as UTF-8 (invalid bytes as U+FFFD), without `\n` or `\r\n`. */
  text: string;
  /** Byte offset of the line's first byte in the file. */
  offset: number;
}

/**
 * Every line with the byte offset where it starts, counted on the file's bytes: a CRLF file or
 * one that is not valid UTF-8 (Latin-1) gets the offsets a byte count gives, not those of the
 * decoded text re-encoded.
 */
export async function* readByteLines(path: string): AsyncGenerator<ByteLine> {
  const decoder = new TextDecoder('utf-8');
  const decode = (bytes: Uint8Array) => {
    const end =
      bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
    return decoder.decode(bytes.subarray(0, end));
  };
  const stream = createReadStream(path);
  let carry: Uint8Array = new Uint8Array(0);
  let carryOffset = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const bytes: Uint8Array = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      let start = 0;
      for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, start)) {
        yield { text: decode(bytes.subarray(start, i)), offset: carryOffset + start };
        start = i + 1;
      }
      carryOffset += start;
      carry = bytes.slice(start);
    }
    // A final line without a line break; a final line break starts no extra line.
    if (carry.length) yield { text: decode(carry), offset: carryOffset };
  } finally {
    stream.destroy();
  }
}

/** What the start of a file says about it: NUL bytes (binary) or bytes that are not UTF-8. */
export async function inspectText(
  path: string,
  sampleBytes = 4 << 20,
): Promise<{
  binary: boolean;
  utf8: boolean;
}> {
  const handle = await open(path, 'r');
  try {
    const sample = new Uint8Array(sampleBytes);
    const { bytesRead } = await handle.read(sample, 0, sampleBytes, 0);
    const bytes = sample.subarray(0, bytesRead);
    let utf8 = true;
    try {
      // `stream` tolerates a character cut at the end of the sample.
      new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
    } catch {
      utf8 = false;
    }
    return { binary: bytes.includes(0), utf8 };
  } finally {
    await handle.close();
  }
}
