/** Shorthands for the nodes, values and constants the kernels' graphs are written with. */
import {
  attr,
  MICROSOFT_DOMAIN,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './model.js';

/** A node of the default domain with one output. */
export function onnxNode(
  op: string,
  inputs: readonly string[],
  output: string,
  attributes?: OnnxNode['attributes'],
): OnnxNode {
  return { op, inputs, outputs: [output], ...(attributes && { attributes }) };
}

/** Graph inputs or outputs of float32 values of any shape. */
export function floatInputs(names: readonly string[]): OnnxValueInfo[] {
  return names.map((name) => ({ name, type: 'float32' }));
}

/** A float32 scalar constant. */
export function scalarTensor(name: string, value: number): OnnxTensor {
  return { name, type: 'float32', dims: [], data: new Float32Array([value]) };
}

/** An int64 constant (axes, shapes); a vector unless `dims` says otherwise (`[]` for a scalar). */
export function int64Tensor(
  name: string,
  values: readonly number[],
  dims: readonly number[] = [values.length],
): OnnxTensor {
  return { name, type: 'int64', dims, data: BigInt64Array.from(values, BigInt) };
}

/**
 * alpha·op(a)·op(b) with `com.microsoft` FusedMatMul: MLAS's SGEMM with the transposes as its
 * flags (no transposed copy) and batch dims broadcast as in numpy.
 */
export function fusedMatMulNode(
  a: string,
  b: string,
  output: string,
  transposeA: boolean,
  transposeB: boolean,
  alpha = 1,
): OnnxNode {
  return {
    op: 'FusedMatMul',
    domain: MICROSOFT_DOMAIN,
    inputs: [a, b],
    outputs: [output],
    attributes: [
      attr.int('transA', +transposeA),
      attr.int('transB', +transposeB),
      attr.float('alpha', alpha),
    ],
  };
}
