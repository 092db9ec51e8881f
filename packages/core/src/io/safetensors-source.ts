/**
 * Where safetensors bytes come from: bytes in memory, a fetch `Response`, a URL, or (in Node) a
 * file path. This module works in any JavaScript runtime; paths are read by the Node entry of
 * `@posenc/core`, which hands its file reader over on import, so browser bundles never see
 * `node:fs`.
 */
import { parseSafetensors, type SafetensorsContents } from './safetensors.js';

/**
 * A safetensors file: its bytes, a `Response` to read, a `URL` to fetch, or a string — a file
 * path in Node (`http:`/`https:`/`data:`/`blob:` strings are fetched there too), a URL in a browser.
 */
export type SafetensorsSource = Uint8Array | ArrayBuffer | Response | URL | string;

/** Reads a file path (or `file:` URL) into parsed contents; provided by the Node entry. */
export type SafetensorsFileReader = (path: string | URL) => Promise<SafetensorsContents>;

let fileReader: SafetensorsFileReader | undefined;

/** Called once by the Node entry; not part of the public API. */
export function provideSafetensorsFileReader(reader: SafetensorsFileReader): void {
  fileReader = reader;
}

const FETCHED_SCHEME = /^(https?|data|blob):/i;

/** Parses a safetensors file from any `SafetensorsSource`; tensor data are views into its bytes. */
export async function readSafetensors(source: SafetensorsSource): Promise<SafetensorsContents> {
  if (source instanceof Uint8Array) return parseSafetensors(source);
  if (source instanceof ArrayBuffer) return parseSafetensors(new Uint8Array(source));
  if (typeof Response !== 'undefined' && source instanceof Response)
    return parseSafetensors(await responseBytes(source, source.url || 'the response'));
  if (typeof source !== 'string' && !(source instanceof URL))
    throw new TypeError(
      `readSafetensors: source is ${Object.prototype.toString.call(source)}; allowed: Uint8Array, ArrayBuffer, Response, URL or a path/URL string`,
    );
  const isFile = source instanceof URL ? source.protocol === 'file:' : !FETCHED_SCHEME.test(source);
  if (isFile && fileReader) return fileReader(source);
  const response = await fetch(source);
  return parseSafetensors(await responseBytes(response, String(source)));
}

async function responseBytes(response: Response, where: string): Promise<Uint8Array> {
  if (!response.ok)
    throw new Error(
      `readSafetensors: fetching ${where} answered ${response.status} ${response.statusText}; expected 200 with the file's bytes`,
    );
  return new Uint8Array(await response.arrayBuffer());
}
