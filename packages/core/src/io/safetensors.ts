/**
 * safetensors reader and writer, following the Rust reference
 * (huggingface/safetensors `safetensors/src/tensor.rs`).
 *
 * A file is an 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the data buffer.
 * The JSON maps tensor names to `{dtype, shape, data_offsets: [begin, end)}` (offsets relative to
 * the data buffer) plus an optional `__metadata__` string→string map. The reader validates in the
 * reference order and reports the reference's error kind; the writer reproduces the reference
 * `serialize` byte for byte. Pure format code: no TF.js here.
 */
/** Element width in bits, in the reference enum's order, which is increasing alignment. */
const DTYPE_BITS = {
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
} as const;

export type SafetensorsDtype = keyof typeof DTYPE_BITS;

/** All dtypes in the reference enum order (increasing alignment). */
export const SAFETENSORS_DTYPES = Object.keys(DTYPE_BITS) as readonly SafetensorsDtype[];

const DTYPE_RANK = new Map(SAFETENSORS_DTYPES.map((dtype, rank) => [dtype, rank]));

export function isSafetensorsDtype(value: string): value is SafetensorsDtype {
  return Object.hasOwn(DTYPE_BITS, value);
}

export function dtypeBits(dtype: SafetensorsDtype): number {
  return DTYPE_BITS[dtype];
}

/**
 * The reference's error names, plus `DuplicateKey` and `UnknownDtype` (the reference folds both
 * into `InvalidHeaderDeserialization`, and silently keeps the last duplicate) and two kinds for
 * the float32 conversion helpers.
 */
export type SafetensorsErrorKind =
  | 'HeaderTooSmall'
  | 'HeaderTooLarge'
  | 'InvalidHeaderLength'
  | 'InvalidHeader'
  | 'InvalidHeaderDeserialization'
  | 'DuplicateKey'
  | 'UnknownDtype'
  | 'InvalidOffset'
  | 'ValidationOverflow'
  | 'MisalignedSlice'
  | 'TensorInvalidInfo'
  | 'MetadataIncompleteBuffer'
  | 'TensorNotFound'
  | 'UnsupportedDtype'
  | 'ValueOutOfRange';

export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';

  constructor(
    readonly kind: SafetensorsErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** One tensor: little-endian, row-major element bytes. */
export interface TensorEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Uint8Array;
}

/** A header entry; `begin`/`end` are relative to the data buffer, which starts at `dataStart`. */
export interface TensorHeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  metadata: Record<string, string> | null;
  /** Sorted by data offset. */
  tensors: TensorHeaderEntry[];
  /** File offset of the data buffer: 8 + header length. */
  dataStart: number;
}

export interface SafetensorsContents {
  metadata: Record<string, string> | null;
  /** In data-offset order. */
  tensors: Map<string, TensorEntry>;
}

export const LENGTH_PREFIX_BYTES = 8;
const MAX_HEADER_SIZE = 100_000_000;
/** Shapes and offsets are `usize` in the reference; overflow is judged against 64 bits. */
const USIZE_MAX = 2n ** 64n - 1n;
const METADATA_KEY = '__metadata__';

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/** Steps 1–3 of the reference `read_metadata`: the length prefix against the file size. */
export function readHeaderLength(prefix: Uint8Array, fileLength: number): number {
  if (fileLength < LENGTH_PREFIX_BYTES) {
    throw new SafetensorsError(
      'HeaderTooSmall',
      `the file is ${fileLength} bytes; a safetensors file starts with an 8-byte little-endian header length`,
    );
  }
  const declared = new DataView(prefix.buffer, prefix.byteOffset, LENGTH_PREFIX_BYTES).getBigUint64(
    0,
    true,
  );
  if (declared > BigInt(MAX_HEADER_SIZE)) {
    throw new SafetensorsError(
      'HeaderTooLarge',
      `bytes 0..8 declare a header of ${declared} bytes; at most ${MAX_HEADER_SIZE} bytes are allowed`,
    );
  }
  const headerLength = Number(declared);
  if (LENGTH_PREFIX_BYTES + headerLength > fileLength) {
    throw new SafetensorsError(
      'InvalidHeaderLength',
      `bytes 0..8 declare a header of ${headerLength} bytes, ending at byte ${LENGTH_PREFIX_BYTES + headerLength}, past the end of the ${fileLength}-byte file`,
    );
  }
  return headerLength;
}

/**
 * Parses and validates the header. `headerBytes` is the start of the file, at least the 8-byte
 * length and the header itself (a whole file is fine); `fileLength` is the size of the whole file,
 * which the tensors must cover exactly.
 */
export function parseHeader(headerBytes: Uint8Array, fileLength: number): SafetensorsHeader {
  const headerLength = readHeaderLength(headerBytes, fileLength);
  const dataStart = LENGTH_PREFIX_BYTES + headerLength;
  if (headerBytes.length < dataStart) {
    throw new RangeError(
      `parseHeader needs the first ${dataStart} bytes of the file (length prefix and header), got ${headerBytes.length}`,
    );
  }
  const jsonBytes = headerBytes.subarray(LENGTH_PREFIX_BYTES, dataStart);
  const invalidAt = firstInvalidUtf8Offset(jsonBytes);
  if (invalidAt >= 0) {
    throw new SafetensorsError(
      'InvalidHeader',
      `the header is not valid UTF-8: byte 0x${jsonBytes[invalidAt].toString(16).padStart(2, '0')} at file offset ${LENGTH_PREFIX_BYTES + invalidAt}`,
    );
  }
  const root = new HeaderJsonParser(jsonBytes, LENGTH_PREFIX_BYTES).parseDocument();
  const { metadata, tensors } = readHeaderSchema(root);

  // Writers may list tensors in any order; the layout rules apply in offset order.
  tensors.sort((a, b) => compareBigInt(a.begin, b.begin) || compareBigInt(a.end, b.end));
  const dataLength = validateLayout(tensors);
  const availableData = BigInt(fileLength - dataStart);
  if (dataLength !== availableData) {
    const problem =
      dataLength < availableData
        ? `${availableData - dataLength} trailing bytes belong to no tensor`
        : `the file is ${dataLength - availableData} bytes short`;
    throw new SafetensorsError(
      'MetadataIncompleteBuffer',
      `the tensors cover ${dataLength} data bytes but the file holds ${availableData} after the header (file offset ${dataStart}): ${problem}; every data byte must belong to exactly one tensor`,
    );
  }

  return {
    metadata,
    tensors: tensors.map((info) => ({
      name: info.name,
      dtype: info.dtype,
      shape: info.shape.map((dim, axis) => toSafeDimension(info.name, axis, dim)),
      // The coverage check bounds every offset by the file length, so these are exact.
      begin: Number(info.begin),
      end: Number(info.end),
    })),
    dataStart,
  };
}

/** Parses a whole file held in memory; tensor data are views into `bytes`. */
export function parseSafetensors(bytes: Uint8Array): SafetensorsContents {
  const header = parseHeader(bytes, bytes.length);
  const tensors = new Map<string, TensorEntry>();
  for (const info of header.tensors) {
    tensors.set(info.name, {
      dtype: info.dtype,
      shape: info.shape,
      data: bytes.subarray(header.dataStart + info.begin, header.dataStart + info.end),
    });
  }
  return { metadata: header.metadata, tensors };
}

export interface ReadSafetensorsOptions {
  /** Read only these tensors (others are validated but not loaded); a missing name is an error. */
  names?: readonly string[];
}

/** The header entries named by `names` (all when undefined), in that order; a missing name is an error. */
export function selectTensors(
  tensors: TensorHeaderEntry[],
  names: readonly string[] | undefined,
): TensorHeaderEntry[] {
  if (names === undefined) return tensors;
  const byName = new Map(tensors.map((info) => [info.name, info]));
  return names.map((name) => {
    const info = byName.get(name);
    if (info === undefined) {
      const shown = tensors.slice(0, 20).map((t) => JSON.stringify(t.name));
      const more = tensors.length > shown.length ? `, … (${tensors.length} in all)` : '';
      throw new SafetensorsError(
        'TensorNotFound',
        `no tensor named ${JSON.stringify(name)}; the file has ${shown.join(', ') || 'no tensors'}${more}`,
      );
    }
    return info;
  });
}

// --- UTF-8 -----------------------------------------------------------------------------------

/**
 * Offset of the first byte that breaks UTF-8 well-formedness (as Rust's `str::from_utf8` defines
 * it: no overlongs, no surrogates, nothing above U+10FFFF), or -1. TextDecoder can validate but
 * cannot say where the problem is.
 */
function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i];
    if (lead < 0x80) {
      i += 1;
      continue;
    }
    let continuationCount: number;
    let secondMin = 0x80;
    let secondMax = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
      continuationCount = 1;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      continuationCount = 2;
      if (lead === 0xe0) secondMin = 0xa0; // overlong
      if (lead === 0xed) secondMax = 0x9f; // UTF-16 surrogates
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      continuationCount = 3;
      if (lead === 0xf0) secondMin = 0x90; // overlong
      if (lead === 0xf4) secondMax = 0x8f; // above U+10FFFF
    } else {
      return i;
    }
    for (let k = 1; k <= continuationCount; k++) {
      const byte = bytes[i + k];
      const [min, max] = k === 1 ? [secondMin, secondMax] : [0x80, 0xbf];
      if (byte === undefined || byte < min || byte > max) return i;
    }
    i += continuationCount + 1;
  }
  return -1;
}

// --- JSON --------------------------------------------------------------------------------------

/** Numbers keep their source text so that 64-bit shapes and offsets stay exact. */
class JsonNumber {
  constructor(readonly text: string) {}
}
type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;
type JsonObject = Map<string, JsonValue>;

/** serde_json's recursion limit; deeper headers are rejected instead of overflowing the stack. */
const MAX_JSON_DEPTH = 128;

const utf8Decoder = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

const enum Char {
  Tab = 0x09,
  LineFeed = 0x0a,
  CarriageReturn = 0x0d,
  Space = 0x20,
  Quote = 0x22,
  Plus = 0x2b,
  Comma = 0x2c,
  Minus = 0x2d,
  Dot = 0x2e,
  Zero = 0x30,
  Nine = 0x39,
  Colon = 0x3a,
  LeftBracket = 0x5b,
  Backslash = 0x5c,
  RightBracket = 0x5d,
  LowerE = 0x65,
  UpperE = 0x45,
  LowerF = 0x66,
  LowerN = 0x6e,
  LowerT = 0x74,
  LeftBrace = 0x7b,
  RightBrace = 0x7d,
}

const SIMPLE_ESCAPES: Record<number, string> = {
  0x22: '"',
  0x5c: '\\',
  0x2f: '/',
  0x62: '\b',
  0x66: '\f',
  0x6e: '\n',
  0x72: '\r',
  0x74: '\t',
};

/**
 * A strict RFC 8259 parser over the header bytes. `JSON.parse` would do, except that it keeps the
 * last of duplicate keys silently and rounds integers above 2^53, both of which matter here.
 */
class HeaderJsonParser {
  private position = 0;

  constructor(
    private readonly bytes: Uint8Array,
    /** File offset of `bytes[0]`, so errors point into the file. */
    private readonly fileOffset: number,
  ) {}

  parseDocument(): JsonValue {
    this.skipWhitespace();
    const value = this.parseValue(0);
    this.skipWhitespace();
    if (this.position < this.bytes.length) {
      throw this.syntaxError('unexpected characters after the top-level value');
    }
    return value;
  }

  private parseValue(depth: number): JsonValue {
    switch (this.bytes[this.position]) {
      case Char.LeftBrace:
        return this.parseObject(depth + 1);
      case Char.LeftBracket:
        return this.parseArray(depth + 1);
      case Char.Quote:
        return this.parseString();
      case Char.LowerT:
        return this.parseLiteral('true', true);
      case Char.LowerF:
        return this.parseLiteral('false', false);
      case Char.LowerN:
        return this.parseLiteral('null', null);
      default:
        return this.parseNumber();
    }
  }

  private parseObject(depth: number): JsonObject {
    this.checkDepth(depth);
    this.position++; // {
    const object: JsonObject = new Map();
    this.skipWhitespace();
    if (this.consume(Char.RightBrace)) return object;
    for (;;) {
      this.skipWhitespace();
      const keyOffset = this.fileOffset + this.position;
      if (this.bytes[this.position] !== Char.Quote) throw this.syntaxError('expected a string key');
      const key = this.parseString();
      if (object.has(key)) {
        throw new SafetensorsError(
          'DuplicateKey',
          `the header repeats the key ${JSON.stringify(key)} (second occurrence at file offset ${keyOffset}); keys must be unique`,
        );
      }
      this.skipWhitespace();
      if (!this.consume(Char.Colon)) throw this.syntaxError("expected ':' after an object key");
      this.skipWhitespace();
      object.set(key, this.parseValue(depth));
      this.skipWhitespace();
      if (this.consume(Char.RightBrace)) return object;
      if (!this.consume(Char.Comma)) throw this.syntaxError("expected ',' or '}' in an object");
    }
  }

  private parseArray(depth: number): JsonValue[] {
    this.checkDepth(depth);
    this.position++; // [
    const array: JsonValue[] = [];
    this.skipWhitespace();
    if (this.consume(Char.RightBracket)) return array;
    for (;;) {
      this.skipWhitespace();
      array.push(this.parseValue(depth));
      this.skipWhitespace();
      if (this.consume(Char.RightBracket)) return array;
      if (!this.consume(Char.Comma)) throw this.syntaxError("expected ',' or ']' in an array");
    }
  }

  private parseString(): string {
    this.position++; // opening quote
    const parts: string[] = [];
    let runStart = this.position;
    for (;;) {
      const byte = this.bytes[this.position];
      if (byte === undefined) throw this.syntaxError('unterminated string');
      if (byte === Char.Quote) {
        parts.push(utf8Decoder.decode(this.bytes.subarray(runStart, this.position)));
        this.position++;
        return parts.join('');
      }
      if (byte < Char.Space) throw this.syntaxError('unescaped control character in a string');
      if (byte === Char.Backslash) {
        parts.push(utf8Decoder.decode(this.bytes.subarray(runStart, this.position)));
        parts.push(this.parseEscape());
        runStart = this.position;
      } else {
        this.position++;
      }
    }
  }

  private parseEscape(): string {
    const escaped = this.bytes[this.position + 1];
    const simple = escaped === undefined ? undefined : SIMPLE_ESCAPES[escaped];
    if (simple !== undefined) {
      this.position += 2;
      return simple;
    }
    if (escaped !== 0x75 /* u */) throw this.syntaxError('invalid escape sequence');
    const unit = this.parseHexEscape();
    if (unit >= 0xdc00 && unit <= 0xdfff) throw this.syntaxError('unpaired low surrogate escape');
    if (unit < 0xd800 || unit > 0xdbff) return String.fromCharCode(unit);
    // Like serde_json: a Rust string cannot hold half a surrogate pair.
    if (this.bytes[this.position] !== Char.Backslash || this.bytes[this.position + 1] !== 0x75) {
      throw this.syntaxError('unpaired high surrogate escape');
    }
    const low = this.parseHexEscape();
    if (low < 0xdc00 || low > 0xdfff) throw this.syntaxError('unpaired high surrogate escape');
    return String.fromCharCode(unit, low);
  }

  /** Reads `\uXXXX` at the current position. */
  private parseHexEscape(): number {
    const hex = this.asciiText(this.position + 2, this.position + 6);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw this.syntaxError('invalid \\u escape');
    this.position += 6;
    return parseInt(hex, 16);
  }

  private parseNumber(): JsonNumber {
    const start = this.position;
    this.consume(Char.Minus);
    if (!this.consume(Char.Zero) && this.skipDigits() === 0) {
      this.position = start;
      throw this.syntaxError('expected a value');
    }
    if (this.consume(Char.Dot) && this.skipDigits() === 0) {
      throw this.syntaxError('expected digits after the decimal point');
    }
    if (this.consume(Char.LowerE) || this.consume(Char.UpperE)) {
      if (!this.consume(Char.Plus)) this.consume(Char.Minus);
      if (this.skipDigits() === 0) throw this.syntaxError('expected digits in the exponent');
    }
    return new JsonNumber(this.asciiText(start, this.position));
  }

  private parseLiteral<T extends boolean | null>(word: string, value: T): T {
    if (this.asciiText(this.position, this.position + word.length) !== word) {
      throw this.syntaxError('expected a value');
    }
    this.position += word.length;
    return value;
  }

  private skipDigits(): number {
    const start = this.position;
    while (this.bytes[this.position] >= Char.Zero && this.bytes[this.position] <= Char.Nine) {
      this.position++;
    }
    return this.position - start;
  }

  private skipWhitespace(): void {
    for (;;) {
      const byte = this.bytes[this.position];
      if (
        byte !== Char.Space &&
        byte !== Char.Tab &&
        byte !== Char.LineFeed &&
        byte !== Char.CarriageReturn
      ) {
        return;
      }
      this.position++;
    }
  }

  private consume(byte: number): boolean {
    if (this.bytes[this.position] !== byte) return false;
    this.position++;
    return true;
  }

  private asciiText(start: number, end: number): string {
    return utf8Decoder.decode(this.bytes.subarray(start, end));
  }

  private checkDepth(depth: number): void {
    if (depth > MAX_JSON_DEPTH) throw this.syntaxError(`nesting deeper than ${MAX_JSON_DEPTH}`);
  }

  private syntaxError(problem: string): SafetensorsError {
    const found = this.bytes[this.position];
    const shown =
      found === undefined
        ? 'the end of the header'
        : `byte 0x${found.toString(16).padStart(2, '0')}`;
    return new SafetensorsError(
      'InvalidHeaderDeserialization',
      `the header is not valid JSON: ${problem}, found ${shown} at file offset ${this.fileOffset + this.position}`,
    );
  }
}

// --- Header schema and layout ------------------------------------------------------------------

interface RawTensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: bigint[];
  begin: bigint;
  end: bigint;
}

function describeJson(value: JsonValue): string {
  if (value === null) return 'null';
  if (value instanceof JsonNumber) return `the number ${value.text}`;
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Map) return 'an object';
  return typeof value === 'string' ? `the string ${JSON.stringify(value)}` : `${value}`;
}

function schemaError(message: string): SafetensorsError {
  return new SafetensorsError('InvalidHeaderDeserialization', message);
}

/** Mirrors the reference's serde schema: unknown fields inside a tensor entry are ignored. */
function readHeaderSchema(root: JsonValue): {
  metadata: Record<string, string> | null;
  tensors: RawTensorInfo[];
} {
  if (!(root instanceof Map)) {
    throw schemaError(
      `the header must be a JSON object of {"<name>": {"dtype", "shape", "data_offsets"}}, got ${describeJson(root)}`,
    );
  }
  let metadata: Record<string, string> | null = null;
  const tensors: RawTensorInfo[] = [];
  for (const [key, value] of root) {
    if (key === METADATA_KEY) {
      metadata = readMetadata(value);
    } else {
      tensors.push(readTensorInfo(key, value));
    }
  }
  return { metadata, tensors };
}

function readMetadata(value: JsonValue): Record<string, string> | null {
  if (value === null) return null;
  if (!(value instanceof Map)) {
    throw schemaError(
      `"${METADATA_KEY}" must be an object of string values, got ${describeJson(value)}`,
    );
  }
  for (const [key, entry] of value) {
    if (typeof entry !== 'string') {
      throw schemaError(
        `"${METADATA_KEY}" values must be strings; ${JSON.stringify(key)} holds ${describeJson(entry)}`,
      );
    }
  }
  // fromEntries defines own properties, so a "__proto__" key stays plain data.
  return Object.fromEntries(value as Map<string, string>);
}

function readTensorInfo(name: string, value: JsonValue): RawTensorInfo {
  const where = `tensor ${JSON.stringify(name)}`;
  if (!(value instanceof Map)) {
    throw schemaError(
      `${where} must be an object {"dtype", "shape", "data_offsets"}, got ${describeJson(value)}`,
    );
  }
  const field = (key: string): JsonValue => {
    const found = value.get(key);
    if (found === undefined) throw schemaError(`${where} has no "${key}" field`);
    return found;
  };

  const dtype = field('dtype');
  if (typeof dtype !== 'string')
    throw schemaError(`${where}: "dtype" must be a string, got ${describeJson(dtype)}`);
  if (!isSafetensorsDtype(dtype)) {
    throw new SafetensorsError(
      'UnknownDtype',
      `${where} has dtype ${JSON.stringify(dtype)}; allowed: ${SAFETENSORS_DTYPES.join(', ')}`,
    );
  }

  const shape = field('shape');
  if (!Array.isArray(shape))
    throw schemaError(`${where}: "shape" must be an array, got ${describeJson(shape)}`);
  const offsets = field('data_offsets');
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    throw schemaError(
      `${where}: "data_offsets" must be an array [begin, end], got ${describeJson(offsets)}`,
    );
  }
  return {
    name,
    dtype,
    shape: shape.map((dim, axis) => readUsize(dim, `${where}: shape[${axis}]`)),
    begin: readUsize(offsets[0], `${where}: data_offsets[0]`),
    end: readUsize(offsets[1], `${where}: data_offsets[1]`),
  };
}

function readUsize(value: JsonValue, what: string): bigint {
  // u64 max has 20 digits and JSON forbids leading zeros, so longer texts are out of range.
  if (value instanceof JsonNumber && value.text.length <= 21 && /^-?\d+$/.test(value.text)) {
    const integer = BigInt(value.text);
    if (integer >= 0n && integer <= USIZE_MAX) return integer;
  }
  throw schemaError(`${what} must be an integer in 0..2^64-1, got ${describeJson(value)}`);
}

/**
 * The reference `Metadata::validate`: in offset order each tensor must start where the previous
 * one ended (so no gaps or overlaps), and its byte span must equal shape × dtype. Returns the
 * data length the tensors cover.
 */
function validateLayout(tensors: RawTensorInfo[]): bigint {
  let expectedBegin = 0n;
  for (const info of tensors) {
    const where = `tensor ${JSON.stringify(info.name)}`;
    if (info.begin !== expectedBegin || info.end < info.begin) {
      throw new SafetensorsError(
        'InvalidOffset',
        `${where} has data_offsets [${info.begin}, ${info.end}] but must start at ${expectedBegin} and end at or after its start: tensors must tile the data buffer back to back from 0, without gaps or overlaps`,
      );
    }
    expectedBegin = info.end;

    let elements = 1n;
    for (const dim of info.shape) {
      elements *= dim;
      if (elements > USIZE_MAX) {
        throw new SafetensorsError(
          'ValidationOverflow',
          `${where} has shape [${info.shape.join(', ')}], whose element count overflows 64 bits`,
        );
      }
    }
    const bits = elements * BigInt(DTYPE_BITS[info.dtype]);
    if (bits > USIZE_MAX) {
      throw new SafetensorsError(
        'ValidationOverflow',
        `${where}: ${elements} elements of ${info.dtype} is a bit count that overflows 64 bits`,
      );
    }
    if (bits % 8n !== 0n) {
      throw new SafetensorsError(
        'MisalignedSlice',
        `${where}: ${elements} elements of ${DTYPE_BITS[info.dtype]}-bit ${info.dtype} make ${bits} bits, not a whole number of bytes`,
      );
    }
    if (info.end - info.begin !== bits / 8n) {
      throw new SafetensorsError(
        'TensorInvalidInfo',
        `${where}: shape [${info.shape.join(', ')}] of ${info.dtype} needs ${bits / 8n} bytes but data_offsets [${info.begin}, ${info.end}] span ${info.end - info.begin}`,
      );
    }
  }
  return expectedBegin;
}

/** Only a dimension of a zero-element tensor can be valid yet beyond 2^53. */
function toSafeDimension(name: string, axis: number, dim: bigint): number {
  if (dim > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new SafetensorsError(
      'ValidationOverflow',
      `tensor ${JSON.stringify(name)}: shape[${axis}] = ${dim} exceeds 2^53-1, the largest exact JavaScript integer`,
    );
  }
  return Number(dim);
}

function compareBigInt(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

export interface PreparedFile {
  /** Length prefix and padded header. */
  head: Uint8Array;
  /** Tensor data in file order. */
  chunks: Uint8Array[];
}

/**
 * The reference `prepare`: tensors sorted by descending dtype alignment, then by name, laid out
 * back to back; the header lists `__metadata__` first, then tensors in offset order, each as
 * {dtype, shape, data_offsets}, and is space-padded to a multiple of 8 so that the data buffer,
 * and with this order every tensor in it, is aligned.
 */
export function prepareSafetensors(
  tensors: Record<string, TensorEntry>,
  metadata: Record<string, string> | null,
): PreparedFile {
  const named = Object.entries(tensors);
  for (const [name, entry] of named) validateEntry(name, entry);
  named.sort(
    ([nameA, a], [nameB, b]) =>
      DTYPE_RANK.get(b.dtype)! - DTYPE_RANK.get(a.dtype)! || compareCodePoints(nameA, nameB),
  );

  const members: string[] = [];
  if (metadata !== null) members.push(`"${METADATA_KEY}":${serializeMetadata(metadata)}`);
  let offset = 0;
  for (const [name, entry] of named) {
    const end = offset + entry.data.length;
    members.push(
      `${jsonString(name, 'tensor name')}:{"dtype":"${entry.dtype}","shape":[${entry.shape.join(',')}],"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = utf8Encoder.encode(`{${members.join(',')}}`);
  const paddedLength = Math.ceil(json.length / 8) * 8;
  if (paddedLength > MAX_HEADER_SIZE) {
    throw new SafetensorsError(
      'HeaderTooLarge',
      `the header would be ${paddedLength} bytes; readers accept at most ${MAX_HEADER_SIZE}`,
    );
  }

  const head = new Uint8Array(LENGTH_PREFIX_BYTES + paddedLength);
  new DataView(head.buffer).setBigUint64(0, BigInt(paddedLength), true);
  head.set(json, LENGTH_PREFIX_BYTES);
  head.fill(Char.Space, LENGTH_PREFIX_BYTES + json.length);
  return { head, chunks: named.map(([, entry]) => entry.data) };
}

function validateEntry(name: string, entry: TensorEntry): void {
  const where = `tensor ${JSON.stringify(name)}`;
  if (name === METADATA_KEY) {
    throw new SafetensorsError(
      'InvalidHeaderDeserialization',
      `"${METADATA_KEY}" cannot name a tensor: the header reserves it for the string→string metadata`,
    );
  }
  if (!isSafetensorsDtype(entry.dtype)) {
    throw new SafetensorsError(
      'UnknownDtype',
      `${where} has dtype ${JSON.stringify(entry.dtype)}; allowed: ${SAFETENSORS_DTYPES.join(', ')}`,
    );
  }
  const bits = elementCount(entry.shape, where) * BigInt(DTYPE_BITS[entry.dtype]);
  if (bits % 8n !== 0n) {
    throw new SafetensorsError(
      'MisalignedSlice',
      `${where}: shape [${entry.shape.join(', ')}] of ${DTYPE_BITS[entry.dtype]}-bit ${entry.dtype} makes ${bits} bits, not a whole number of bytes`,
    );
  }
  if (BigInt(entry.data.length) !== bits / 8n) {
    throw new SafetensorsError(
      'TensorInvalidInfo',
      `${where}: shape [${entry.shape.join(', ')}] of ${entry.dtype} needs ${bits / 8n} bytes, but data has ${entry.data.length}`,
    );
  }
}

function elementCount(shape: readonly number[], where: string): bigint {
  if (!Array.isArray(shape) || !shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
    throw new SafetensorsError(
      'TensorInvalidInfo',
      `${where}: shape ${JSON.stringify(shape)} must be an array of non-negative integers`,
    );
  }
  return shape.reduce((count, dim) => count * BigInt(dim), 1n);
}

/**
 * Keys sorted so the bytes do not depend on how the object was built (the reference keeps
 * metadata in a HashMap, so it promises no order at all).
 */
function serializeMetadata(metadata: Record<string, string>): string {
  const members = Object.entries(metadata)
    .sort(([a], [b]) => compareCodePoints(a, b))
    .map(([key, value]) => {
      if (typeof value !== 'string') {
        throw new SafetensorsError(
          'InvalidHeaderDeserialization',
          `metadata ${JSON.stringify(key)} must be a string, got ${typeof value}; readers accept only string values`,
        );
      }
      return `${jsonString(key, 'metadata key')}:${jsonString(value, `metadata ${JSON.stringify(key)}`)}`;
    });
  return `{${members.join(',')}}`;
}

/**
 * JSON.stringify escapes exactly what serde_json escapes (quote, backslash, control characters,
 * lowercase \u00XX), except that it writes lone surrogates as escapes, which no reader accepts.
 */
function jsonString(text: string, what: string): string {
  if (/[\uD800-\uDFFF]/u.test(text)) {
    throw new SafetensorsError(
      'InvalidHeader',
      `${what} ${JSON.stringify(text)} contains an unpaired UTF-16 surrogate, which has no UTF-8 encoding`,
    );
  }
  return JSON.stringify(text);
}

/** Rust orders `String`s by UTF-8 bytes, which is code point order, not UTF-16 unit order. */
function compareCodePoints(a: string, b: string): number {
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  for (;;) {
    const x = left.next();
    const y = right.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const difference = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (difference !== 0) return difference;
  }
}

/** Serializes tensors and optional metadata to the bytes the reference `serialize` produces. */
export function serializeSafetensors(
  tensors: Record<string, TensorEntry>,
  metadata: Record<string, string> | null = null,
): Uint8Array {
  const { head, chunks } = prepareSafetensors(tensors, metadata);
  const out = new Uint8Array(
    head.length + chunks.reduce((total, chunk) => total + chunk.length, 0),
  );
  out.set(head, 0);
  let offset = head.length;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Conversion to and from float32
// ---------------------------------------------------------------------------------------------

/** Typed arrays use host byte order and safetensors is little-endian; so does TF.js itself. */
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function assertLittleEndianHost(): void {
  if (!HOST_IS_LITTLE_ENDIAN) {
    throw new Error('safetensors conversions need a little-endian host (as TF.js does)');
  }
}

interface TypedArrayConstructor<T> {
  readonly BYTES_PER_ELEMENT: number;
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
}

/**
 * A typed view of `data`. Views need a byte offset that is a multiple of the element size, which
 * files from other writers, or tensors sliced out of a whole-file buffer, need not have; those
 * are copied first (with the constructor: a Node Buffer's `slice` would return another view).
 */
function elementView<T>(data: Uint8Array, type: TypedArrayConstructor<T>): T {
  const size = type.BYTES_PER_ELEMENT;
  const aligned =
    data.byteOffset % size === 0 && data.buffer instanceof ArrayBuffer
      ? (data as Uint8Array<ArrayBuffer>)
      : new Uint8Array(data);
  return new type(aligned.buffer, aligned.byteOffset, aligned.byteLength / size);
}

function checkDataLength(entry: TensorEntry): void {
  const where = `a ${entry.dtype} tensor of shape ${JSON.stringify(entry.shape)}`;
  const bits = elementCount(entry.shape, where) * BigInt(DTYPE_BITS[entry.dtype]);
  if (BigInt(entry.data.length) * 8n !== bits) {
    throw new SafetensorsError(
      'TensorInvalidInfo',
      `${where} needs ${bits / 8n} bytes, but data has ${entry.data.length}`,
    );
  }
}

/**
 * Decodes a tensor to a new Float32Array (rounding to nearest even where float32 is narrower).
 * Handles F64, F32, F16, BF16, the integer types (64-bit ones only within ±(2^53-1)) and BOOL.
 */
export function decodeToFloat32(entry: TensorEntry): Float32Array {
  assertLittleEndianHost();
  checkDataLength(entry);
  const { data } = entry;
  switch (entry.dtype) {
    case 'F32':
      return new Float32Array(elementView(data, Float32Array));
    case 'F64':
      return new Float32Array(elementView(data, Float64Array));
    case 'F16': {
      const table = float16ToFloat32BitsTable();
      return widenHalves(elementView(data, Uint16Array), (half) => table[half]);
    }
    case 'BF16':
      // bfloat16 is the top half of a float32, so widening is a shift.
      return widenHalves(elementView(data, Uint16Array), (half) => half << 16);
    case 'I8':
      return new Float32Array(elementView(data, Int8Array));
    case 'U8':
      return new Float32Array(data);
    case 'I16':
      return new Float32Array(elementView(data, Int16Array));
    case 'U16':
      return new Float32Array(elementView(data, Uint16Array));
    case 'I32':
      return new Float32Array(elementView(data, Int32Array));
    case 'U32':
      return new Float32Array(elementView(data, Uint32Array));
    case 'I64':
      return decodeWideIntegers(elementView(data, BigInt64Array), entry.dtype);
    case 'U64':
      return decodeWideIntegers(elementView(data, BigUint64Array), entry.dtype);
    case 'BOOL':
      return Float32Array.from(data, (byte) => (byte !== 0 ? 1 : 0));
    default:
      throw new SafetensorsError(
        'UnsupportedDtype',
        `decodeToFloat32 handles F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8 and BOOL, not ${entry.dtype}`,
      );
  }
}

/** Writes float32 bit patterns rather than numbers, so NaN payloads survive exactly. */
function widenHalves(halves: Uint16Array, toFloat32Bits: (half: number) => number): Float32Array {
  const out = new Float32Array(halves.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < halves.length; i++) outBits[i] = toFloat32Bits(halves[i]);
  return out;
}

function decodeWideIntegers(values: BigInt64Array | BigUint64Array, dtype: string): Float32Array {
  const limit = BigInt(Number.MAX_SAFE_INTEGER);
  return Float32Array.from(values, (value, index) => {
    if (value > limit || value < -limit) {
      throw new SafetensorsError(
        'ValueOutOfRange',
        `${dtype} element ${index} is ${value}, outside ±(2^53-1), the range decodeToFloat32 converts exactly`,
      );
    }
    return Number(value);
  });
}

let float16Table: Uint32Array | undefined;

/** float32 bit patterns of all 65536 float16 values, built on first use. */
function float16ToFloat32BitsTable(): Uint32Array {
  if (float16Table === undefined) {
    float16Table = new Uint32Array(0x10000);
    for (let half = 0; half < 0x10000; half++) float16Table[half] = float16BitsToFloat32Bits(half);
  }
  return float16Table;
}

function float16BitsToFloat32Bits(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >>> 10) & 0x1f;
  let mantissa = half & 0x3ff;
  if (exponent === 0x1f) return sign | 0x7f800000 | (mantissa << 13); // Inf, NaN (payload kept)
  if (exponent !== 0) return sign | ((exponent - 15 + 127) << 23) | (mantissa << 13);
  if (mantissa === 0) return sign; // ±0
  // Subnormal: shift the leading 1 up to the implicit bit, lowering the exponent to match.
  let unbiased = -14;
  while ((mantissa & 0x400) === 0) {
    mantissa <<= 1;
    unbiased--;
  }
  return sign | ((unbiased + 127) << 23) | ((mantissa & 0x3ff) << 13);
}

/** Dtypes `encodeTensorEntry` can produce. */
export type EncodableDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I32' | 'U8' | 'BOOL';

/**
 * Encodes values (row-major, `shape`'s element count) as a tensor entry. Floats round to nearest
 * even; I32 and U8 reject values they cannot hold exactly; BOOL stores 1 for any non-zero value.
 */
export function encodeTensorEntry(
  values: Float32Array | Int32Array | Uint8Array,
  shape: readonly number[],
  dtype: EncodableDtype,
): TensorEntry {
  assertLittleEndianHost();
  const where = `a ${dtype} tensor of shape ${JSON.stringify(shape)}`;
  const count = elementCount(shape, where);
  if (BigInt(values.length) !== count) {
    throw new SafetensorsError(
      'TensorInvalidInfo',
      `${where} has ${count} elements, but ${values.length} values were given`,
    );
  }
  return { dtype, shape: [...shape], data: encodeValues(values, dtype) };
}

function encodeValues(
  values: Float32Array | Int32Array | Uint8Array,
  dtype: EncodableDtype,
): Uint8Array {
  switch (dtype) {
    case 'F64':
      return bytesOf(new Float64Array(values));
    case 'F32':
      return bytesOf(new Float32Array(values));
    case 'F16':
      return bytesOf(
        Uint16Array.from(values, (value) =>
          float32BitsToFloat16Bits(float32BitsRoundedToOdd(value)),
        ),
      );
    case 'BF16':
      return bytesOf(
        Uint16Array.from(values, (value) =>
          float32BitsToBFloat16Bits(float32BitsRoundedToOdd(value)),
        ),
      );
    case 'I32':
      checkIntegers(values, dtype, -(2 ** 31), 2 ** 31 - 1);
      return bytesOf(new Int32Array(values));
    case 'U8':
      checkIntegers(values, dtype, 0, 255);
      return new Uint8Array(values);
    case 'BOOL':
      return Uint8Array.from(values, (value) => (value !== 0 ? 1 : 0));
  }
}

function bytesOf(array: Float64Array | Float32Array | Int32Array | Uint16Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

function checkIntegers(values: ArrayLike<number>, dtype: string, min: number, max: number): void {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new SafetensorsError(
        'ValueOutOfRange',
        `value ${i} is ${value}; ${dtype} holds integers in ${min}..${max}`,
      );
    }
  }
}

const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

/**
 * float32 bits of `value` rounded to odd. Int32 inputs beyond 2^24 are not exact in float32, and
 * rounding them to nearest twice (to float32, then to 16 bits) can land on the wrong neighbour;
 * rounding to odd first keeps the second rounding correct, since float32 carries more than two
 * extra bits over float16 and bfloat16.
 */
function float32BitsRoundedToOdd(value: number): number {
  scratchFloat[0] = value;
  const rounded = scratchFloat[0];
  let bits = scratchBits[0];
  if (rounded !== value && Number.isFinite(rounded)) {
    if (Math.abs(rounded) > Math.abs(value)) bits -= 1; // the neighbour toward zero
    bits = (bits | 1) >>> 0;
  }
  return bits;
}

function float32BitsToFloat16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200 | (mantissa >>> 13));
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Below 2^-25 (half the smallest subnormal) everything rounds to zero.
    if (halfExponent < -10) return sign;
    return sign | roundShiftRightEven(mantissa | 0x800000, 14 - halfExponent);
  }
  // A carry out of the mantissa correctly bumps the exponent, up to Inf.
  return sign | ((halfExponent << 10) + roundShiftRightEven(mantissa, 13));
}

/** `value >> shift`, rounded to nearest, ties to even. */
function roundShiftRightEven(value: number, shift: number): number {
  const kept = value >>> shift;
  const dropped = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return dropped > half || (dropped === half && (kept & 1) === 1) ? kept + 1 : kept;
}

function float32BitsToBFloat16Bits(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return (bits >>> 16) | 0x40; // NaN stays (quiet) NaN
  return (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
}
