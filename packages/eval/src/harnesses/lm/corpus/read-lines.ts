/**
 * Lines of a UTF-8 file, streamed: WikiText-103's training file (540 MB) is longer than the
 * longest string V8 can hold, so it is never read whole.
 */
import { createReadStream } from 'node:fs';
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
