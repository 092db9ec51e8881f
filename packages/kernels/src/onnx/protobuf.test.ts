import { describe, expect, it } from 'vitest';
import { ProtoWriter } from './protobuf.js';
import { encodeModel, IR_VERSION, MICROSOFT_DOMAIN } from './model.js';

/** A test-only protobuf reader: field number → list of raw values (varints as bigint, bytes). */
function readFields(bytes: Uint8Array): Map<number, (bigint | Uint8Array)[]> {
  const fields = new Map<number, (bigint | Uint8Array)[]>();
  let i = 0;
  const varint = () => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = bytes[i++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
      shift += 7n;
    }
  };
  while (i < bytes.length) {
    const key = Number(varint());
    const field = key >> 3;
    const wire = key & 7;
    let value: bigint | Uint8Array;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const n = Number(varint());
      value = bytes.slice(i, i + n);
      i += n;
    } else if (wire === 5) {
      value = bytes.slice(i, i + 4);
      i += 4;
    } else throw new Error(`wire type ${wire}`);
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}
const text = (b: unknown) => new TextDecoder().decode(b as Uint8Array);

describe('ProtoWriter', () => {
  it('encodes varints, negative int64s, floats, strings and packed fields as the wire format says', () => {
    expect(Array.from(new ProtoWriter().int(1, 150).finish())).toEqual([0x08, 0x96, 0x01]);
    expect(Array.from(new ProtoWriter().int(2, -1).finish())).toEqual([
      0x10,
      ...Array(9).fill(0xff),
      0x01,
    ]);
    expect(Array.from(new ProtoWriter().float(2, 1).finish())).toEqual([
      0x15, 0x00, 0x00, 0x80, 0x3f,
    ]);
    expect(Array.from(new ProtoWriter().string(1, 'ab').finish())).toEqual([
      0x0a, 0x02, 0x61, 0x62,
    ]);
    expect(Array.from(new ProtoWriter().packedInts(8, [3, 270]).finish())).toEqual([
      0x42, 0x03, 0x03, 0x8e, 0x02,
    ]);
    expect(Array.from(new ProtoWriter().message(7, new ProtoWriter().int(1, 1)).finish())).toEqual([
      0x3a, 0x02, 0x08, 0x01,
    ]);
  });
});

describe('encodeModel', () => {
  it('writes a ModelProto with the IR version, the opset imports and the graph', () => {
    const bytes = encodeModel({
      nodes: [{ op: 'FusedMatMul', domain: MICROSOFT_DOMAIN, inputs: ['a', 'b'], outputs: ['y'] }],
      inputs: [
        { name: 'a', type: 'float32', shape: [2, 'n'] },
        { name: 'b', type: 'float32' },
      ],
      outputs: [{ name: 'y', type: 'float32' }],
    });
    const model = readFields(bytes);
    expect(model.get(1)).toEqual([BigInt(IR_VERSION)]);
    const opsets = model.get(8)!.map((o) => readFields(o as Uint8Array));
    expect(opsets.map((o) => [text(o.get(1)?.[0] ?? new Uint8Array()), o.get(2)![0]])).toEqual([
      ['', 20n],
      [MICROSOFT_DOMAIN, 1n],
    ]);
    const graph = readFields(model.get(7)![0] as Uint8Array);
    const node = readFields(graph.get(1)![0] as Uint8Array);
    expect(node.get(1)!.map(text)).toEqual(['a', 'b']);
    expect(text(node.get(4)![0])).toBe('FusedMatMul');
    expect(text(node.get(7)![0])).toBe(MICROSOFT_DOMAIN);
    const input = readFields(graph.get(11)![0] as Uint8Array);
    expect(text(input.get(1)![0])).toBe('a');
    const tensorType = readFields(
      readFields(input.get(2)![0] as Uint8Array).get(1)![0] as Uint8Array,
    );
    expect(tensorType.get(1)).toEqual([1n]); // FLOAT
    const dims = readFields(tensorType.get(2)![0] as Uint8Array)
      .get(1)!
      .map((d) => readFields(d as Uint8Array));
    expect(dims[0]!.get(1)).toEqual([2n]);
    expect(text(dims[1]!.get(2)![0])).toBe('n');
    // An input without a shape has a type and no shape field (any rank).
    const second = readFields(
      readFields(readFields(graph.get(11)![1] as Uint8Array).get(2)![0] as Uint8Array).get(
        1,
      )![0] as Uint8Array,
    );
    expect(second.has(2)).toBe(false);
  });
});
