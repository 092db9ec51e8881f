/**
 * A minimal protocol-buffers writer: enough of the wire format to encode an ONNX ModelProto
 * (varints, length-delimited fields, packed repeated scalars, fixed32 floats). No dependency is
 * needed for the handful of messages a one-node graph uses.
 *
 * Wire format: https://protobuf.dev/programming-guides/encoding/ — a field is a varint key
 * `(fieldNumber << 3) | wireType` followed by its payload; wire type 0 is a varint, 2 is
 * length-delimited (strings, bytes, nested messages, packed arrays), 5 is a 32-bit value.
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const utf8 = new TextEncoder();

/** Accumulates the bytes of one message; nested messages are encoded first and embedded. */
export class ProtoWriter {
  private readonly chunks: number[] = [];

  private key(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  /** A non-negative integer (or a negative int64, as ten bytes of two's complement). */
  private varint(value: number | bigint): void {
    let v = BigInt(value);
    if (v < 0n) v = BigInt.asUintN(64, v);
    while (v >= 0x80n) {
      this.chunks.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.chunks.push(Number(v));
  }

  /** An int32/int64/enum field; proto3 omits zero, but ONNX readers accept it either way. */
  int(field: number, value: number | bigint): this {
    this.key(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, WIRE_FIXED32);
    const bytes = new Uint8Array(new Float32Array([value]).buffer);
    for (const b of bytes) this.chunks.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, WIRE_LENGTH_DELIMITED);
    this.varint(value.length);
    for (const b of value) this.chunks.push(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish());
  }

  /** A packed repeated int32/int64 field. */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    return this.bytes(field, inner.finish());
  }

  /** A packed repeated float field. */
  packedFloats(field: number, values: readonly number[] | Float32Array): this {
    return this.bytes(field, new Uint8Array(Float32Array.from(values).buffer));
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}
