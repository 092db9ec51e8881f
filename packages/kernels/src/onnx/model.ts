/**
 * Builds the bytes of an ONNX ModelProto for the small graphs the kernels run (usually one
 * node). Field numbers are those of onnx/onnx.proto3 (ONNX 1.15, IR version 9):
 *
 *   ModelProto      ir_version=1, producer_name=2, graph=7, opset_import=8
 *   OperatorSetId   domain=1, version=2
 *   GraphProto      node=1, name=2, initializer=5, input=11, output=12
 *   NodeProto       input=1, output=2, name=3, op_type=4, attribute=5, domain=7
 *   AttributeProto  name=1, f=2, i=3, s=4, t=5, floats=7, ints=8, type=20
 *   TensorProto     dims=1, data_type=2, name=8, raw_data=9
 *   ValueInfoProto  name=1, type=2;  TypeProto tensor_type=1;  TypeProto.Tensor elem_type=1, shape=2
 *   TensorShapeProto dim=1;  Dimension dim_value=1, dim_param=2
 */
import { ProtoWriter } from './protobuf.js';

/** IR version 9 goes with opset 20 (ONNX 1.15); ONNX Runtime 1.30 reads both. */
export const IR_VERSION = 9;
export const DEFAULT_OPSET = 20;
/** ONNX Runtime's contrib operators (FusedMatMul, …) live in this domain, at version 1. */
export const MICROSOFT_DOMAIN = 'com.microsoft';

export type OnnxElementType = 'float32' | 'int32' | 'int64' | 'bool';

/** TensorProto.DataType codes. */
const ELEMENT_TYPE_CODES: Record<OnnxElementType, number> = {
  float32: 1,
  int32: 6,
  int64: 7,
  bool: 9,
};

export interface OnnxValueInfo {
  name: string;
  type: OnnxElementType;
  /**
   * Known dims as numbers, symbolic dims as names; omit for a value of unknown rank (the graph
   * then accepts any shape, which lets one session serve every shape of an op).
   */
  shape?: readonly (number | string)[];
}

export interface OnnxTensor {
  name: string;
  type: OnnxElementType;
  dims: readonly number[];
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
}

export type OnnxAttribute =
  | { name: string; kind: 'int'; value: number }
  | { name: string; kind: 'float'; value: number }
  | { name: string; kind: 'string'; value: string }
  | { name: string; kind: 'ints'; value: readonly number[] }
  | { name: string; kind: 'floats'; value: readonly number[] }
  | { name: string; kind: 'tensor'; value: OnnxTensor };

/** AttributeProto.AttributeType codes. */
const ATTRIBUTE_TYPE_CODES = {
  float: 1,
  int: 2,
  string: 3,
  tensor: 4,
  floats: 6,
  ints: 7,
} as const;

export interface OnnxNode {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: readonly OnnxAttribute[];
  /** Empty for the standard domain; `com.microsoft` for contrib ops. */
  domain?: string;
}

export interface OnnxGraph {
  nodes: readonly OnnxNode[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
  initializers?: readonly OnnxTensor[];
  opset?: number;
}

export const attr = {
  int: (name: string, value: number): OnnxAttribute => ({ name, kind: 'int', value }),
  float: (name: string, value: number): OnnxAttribute => ({ name, kind: 'float', value }),
  string: (name: string, value: string): OnnxAttribute => ({ name, kind: 'string', value }),
  ints: (name: string, value: readonly number[]): OnnxAttribute => ({ name, kind: 'ints', value }),
  floats: (name: string, value: readonly number[]): OnnxAttribute => ({
    name,
    kind: 'floats',
    value,
  }),
  tensor: (name: string, value: OnnxTensor): OnnxAttribute => ({ name, kind: 'tensor', value }),
};

function tensorProto(t: OnnxTensor): ProtoWriter {
  const w = new ProtoWriter();
  if (t.dims.length) w.packedInts(1, t.dims);
  w.int(2, ELEMENT_TYPE_CODES[t.type]);
  w.string(8, t.name);
  // raw_data is little-endian, as typed arrays are on every platform ONNX Runtime ships for.
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return w;
}

function attributeProto(a: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value);
      break;
    case 'int':
      w.int(3, a.value);
      break;
    case 'string':
      w.string(4, a.value);
      break;
    case 'tensor':
      w.message(5, tensorProto(a.value));
      break;
    case 'floats':
      w.packedFloats(7, a.value);
      break;
    case 'ints':
      w.packedInts(8, a.value);
      break;
  }
  return w.int(20, ATTRIBUTE_TYPE_CODES[a.kind]);
}

function valueInfoProto(v: OnnxValueInfo): ProtoWriter {
  const tensorType = new ProtoWriter().int(1, ELEMENT_TYPE_CODES[v.type]);
  if (v.shape) {
    const shape = new ProtoWriter();
    for (const d of v.shape) {
      const dim = new ProtoWriter();
      if (typeof d === 'number') dim.int(1, d);
      else dim.string(2, d);
      shape.message(1, dim);
    }
    tensorType.message(2, shape);
  }
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

function nodeProto(n: OnnxNode, index: number): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, `${n.op}_${index}`);
  w.string(4, n.op);
  for (const a of n.attributes ?? []) w.message(5, attributeProto(a));
  if (n.domain) w.string(7, n.domain);
  return w;
}

/** Serialises a graph as a complete model, importing the default domain and, if used, com.microsoft. */
export function encodeModel(graph: OnnxGraph): Uint8Array {
  const g = new ProtoWriter();
  graph.nodes.forEach((n, i) => g.message(1, nodeProto(n, i)));
  g.string(2, 'posenc_kernel');
  for (const t of graph.initializers ?? []) g.message(5, tensorProto(t));
  for (const v of graph.inputs) g.message(11, valueInfoProto(v));
  for (const v of graph.outputs) g.message(12, valueInfoProto(v));

  const model = new ProtoWriter().int(1, IR_VERSION).string(2, '@posenc/kernels').message(7, g);
  model.message(8, new ProtoWriter().string(1, '').int(2, graph.opset ?? DEFAULT_OPSET));
  if (graph.nodes.some((n) => n.domain === MICROSOFT_DOMAIN))
    model.message(8, new ProtoWriter().string(1, MICROSOFT_DOMAIN).int(2, 1));
  return model.finish();
}
