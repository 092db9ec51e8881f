/**
 * Elementwise kernels on ONNX Runtime: unary maps, broadcasting binary ops, comparisons, Cast and
 * Select. Each matches the TF.js kernel of the same name on float32 (comparisons and Select also
 * on int32); other dtypes, and tensors smaller than `minElements`, stay on the host.
 *
 * Where ONNX has no single op, a short chain gives TF's definition: Rsqrt = 1/√x,
 * Square = x·x, SquaredDifference = (a−b)², Softplus = log(1+eˣ) (ONNX Softplus), Step(α) =
 * x > 0 ? 1 : α·[x ≤ 0] … see each entry.
 */
import type { tf } from '@posenc/core';
import {
  attr,
  type OnnxElementType,
  type OnnxGraph,
  type OnnxNode,
  type OnnxTensor,
} from '../onnx/model.js';
import { onnxNode as node, scalarTensor as scalar } from '../onnx/nodes.js';
import {
  broadcastShapes,
  onnxType,
  runGraph,
  sizeOf,
  type AcceleratedKernel,
} from './kernel-context.js';

type TensorInfo = tf.TensorInfo;
type Attrs = Record<string, unknown>;

interface Chain {
  nodes: OnnxNode[];
  initializers?: OnnxTensor[];
}

interface UnarySpec {
  kernelName: string;
  /** Nodes from graph input `x` to graph output `y`. */
  chain(attrs: Attrs): Chain;
  /** Attribute values the chain depends on (part of the session key). */
  key?(attrs: Attrs): string;
}

const op1 = (kernelName: string, op: string): UnarySpec => ({
  kernelName,
  chain: () => ({ nodes: [node(op, ['x'], 'y')] }),
});

const UNARY: UnarySpec[] = [
  op1('Abs', 'Abs'),
  op1('Ceil', 'Ceil'),
  op1('Cos', 'Cos'),
  op1('Erf', 'Erf'),
  op1('Exp', 'Exp'),
  op1('Floor', 'Floor'),
  op1('Log', 'Log'),
  op1('Neg', 'Neg'),
  op1('Reciprocal', 'Reciprocal'),
  op1('Relu', 'Relu'),
  op1('Sigmoid', 'Sigmoid'),
  op1('Sign', 'Sign'),
  op1('Sin', 'Sin'),
  op1('Softplus', 'Softplus'),
  op1('Sqrt', 'Sqrt'),
  op1('Tanh', 'Tanh'),
  {
    kernelName: 'Rsqrt',
    chain: () => ({ nodes: [node('Sqrt', ['x'], 's'), node('Reciprocal', ['s'], 'y')] }),
  },
  { kernelName: 'Square', chain: () => ({ nodes: [node('Mul', ['x', 'x'], 'y')] }) },
  {
    kernelName: 'Elu',
    chain: () => ({ nodes: [node('Elu', ['x'], 'y', [attr.float('alpha', 1)])] }),
  },
  {
    kernelName: 'LeakyRelu',
    chain: (a) => ({
      nodes: [node('LeakyRelu', ['x'], 'y', [attr.float('alpha', a['alpha'] as number)])],
    }),
    key: (a) => String(a['alpha']),
  },
  {
    // TF's Step: 1 where x > 0, alpha elsewhere (NaN stays NaN).
    kernelName: 'Step',
    chain: (a) => ({
      nodes: [
        node('Greater', ['x', 'zero'], 'positive'),
        node('Where', ['positive', 'one', 'alpha'], 'stepped'),
        node('IsNaN', ['x'], 'nan'),
        node('Where', ['nan', 'x', 'stepped'], 'y'),
      ],
      initializers: [scalar('zero', 0), scalar('one', 1), scalar('alpha', a['alpha'] as number)],
    }),
    key: (a) => String(a['alpha']),
  },
  {
    kernelName: 'ClipByValue',
    chain: (a) => ({
      nodes: [node('Clip', ['x', 'lo', 'hi'], 'y')],
      initializers: [
        scalar('lo', a['clipValueMin'] as number),
        scalar('hi', a['clipValueMax'] as number),
      ],
    }),
    key: (a) => `${a['clipValueMin']},${a['clipValueMax']}`,
  },
];

type BinaryOutput = 'same' | 'bool';

interface BinarySpec {
  kernelName: string;
  chain: Chain;
  output: BinaryOutput;
  /** Input dtypes handled besides float32. */
  int32?: boolean;
}

const op2 = (
  kernelName: string,
  op: string,
  output: BinaryOutput = 'same',
  int32 = false,
): BinarySpec => ({
  kernelName,
  chain: { nodes: [node(op, ['a', 'b'], 'y')] },
  output,
  int32,
});

const BINARY: BinarySpec[] = [
  op2('Add', 'Add'),
  op2('Sub', 'Sub'),
  op2('Multiply', 'Mul'),
  op2('RealDiv', 'Div'),
  op2('Maximum', 'Max'),
  op2('Minimum', 'Min'),
  {
    kernelName: 'SquaredDifference',
    chain: { nodes: [node('Sub', ['a', 'b'], 'd'), node('Mul', ['d', 'd'], 'y')] },
    output: 'same',
  },
  op2('Equal', 'Equal', 'bool', true),
  op2('Greater', 'Greater', 'bool', true),
  op2('GreaterEqual', 'GreaterOrEqual', 'bool', true),
  op2('Less', 'Less', 'bool', true),
  op2('LessEqual', 'LessOrEqual', 'bool', true),
  {
    kernelName: 'NotEqual',
    chain: { nodes: [node('Equal', ['a', 'b'], 'e'), node('Not', ['e'], 'y')] },
    output: 'bool',
    int32: true,
  },
];

function graphOf(
  chain: Chain,
  inputs: [string, OnnxElementType][],
  output: OnnxElementType,
): OnnxGraph {
  return {
    nodes: chain.nodes,
    inputs: inputs.map(([name, type]) => ({ name, type })),
    outputs: [{ name: 'y', type: output }],
    initializers: chain.initializers,
  };
}

function unaryKernel(spec: UnarySpec): AcceleratedKernel {
  return {
    kernelName: spec.kernelName,
    run({ inputs, attrs = {}, backend }, ctx) {
      const { x } = inputs as { x: TensorInfo };
      if (x.dtype !== 'float32' || sizeOf(x.shape) < ctx.minElements) return undefined;
      const key = `${spec.kernelName}:${spec.key?.(attrs) ?? ''}`;
      const build = () => graphOf(spec.chain(attrs), [['x', 'float32']], 'float32');
      return runGraph(ctx, backend, key, build, [x], [{ shape: x.shape, dtype: 'float32' }])[0];
    },
  };
}

function binaryKernel(spec: BinarySpec): AcceleratedKernel {
  return {
    kernelName: spec.kernelName,
    run({ inputs, backend }, ctx) {
      const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
      if (a.dtype !== b.dtype || !(a.dtype === 'float32' || (spec.int32 && a.dtype === 'int32')))
        return undefined;
      const shape = broadcastShapes(a.shape, b.shape);
      if (!shape || sizeOf(shape) < ctx.minElements) return undefined;
      const type = a.dtype as OnnxElementType;
      const out = spec.output === 'bool' ? 'bool' : (a.dtype as 'float32' | 'int32');
      const build = () =>
        graphOf(
          spec.chain,
          [
            ['a', type],
            ['b', type],
          ],
          out,
        );
      return runGraph(
        ctx,
        backend,
        `${spec.kernelName}:${type}`,
        build,
        [a, b],
        [{ shape, dtype: out }],
      )[0];
    },
  };
}

interface RefCountingBackend {
  incRef(dataId: object): void;
}

/**
 * A cast to the same dtype is a copy on wasm; share the data as Identity does. Every Multiply
 * gradient casts its other operand to float32 (`mul(dy, cast(b, 'float32'))`), so this is frequent.
 */
function shareSameDtype(x: TensorInfo, to: tf.DataType, backend: unknown): TensorInfo | undefined {
  if (to !== x.dtype || x.dtype === 'string') return undefined;
  (backend as RefCountingBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Cast that only shares same-dtype data and leaves every conversion to the host. */
export const castSharingOnly: AcceleratedKernel = {
  kernelName: 'Cast',
  run: ({ inputs, attrs, backend }) =>
    shareSameDtype(inputs['x']!, (attrs as { dtype: tf.DataType }).dtype, backend),
};

/**
 * Pow. A scalar exponent of 2 or 3 (GELU's x³, and its gradient's x²) is computed as products
 * on the host (x·x, x·x·x with SIMD multiplies), several times faster than any `pow` call per
 * element; other exponents run ONNX Pow.
 */
export const pow: AcceleratedKernel = {
  kernelName: 'Pow',
  run(args, ctx) {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (
      a.dtype === 'float32' &&
      b.dtype === 'float32' &&
      sizeOf(b.shape) === 1 &&
      b.shape.length <= a.shape.length
    ) {
      const exponent = ctx.memoryOf(args.backend).view(b)[0];
      if (exponent === 2)
        return ctx.runHost('Multiply', { inputs: { a, b: a }, backend: args.backend });
      if (exponent === 3) {
        const square = ctx.runHost('Multiply', { inputs: { a, b: a }, backend: args.backend });
        const cube = ctx.runHost('Multiply', {
          inputs: { a: square, b: a },
          backend: args.backend,
        });
        ctx.release(args.backend, square);
        return cube;
      }
    }
    return onnxPow.run(args, ctx);
  },
};

/**
 * Cast between float32, int32 and bool. float→int truncates toward zero and any non-zero is
 * true, in TF.js and in ONNX alike.
 */
export const cast: AcceleratedKernel = {
  kernelName: 'Cast',
  run({ inputs, attrs, backend }, ctx) {
    const { x } = inputs as { x: TensorInfo };
    const to = (attrs as { dtype: tf.DataType }).dtype;
    const shared = shareSameDtype(x, to, backend);
    if (shared) return shared;
    const from = onnxType(x.dtype);
    const target = onnxType(to);
    if (!from || !target || sizeOf(x.shape) < ctx.minElements) return undefined;
    // TF.js casts float NaN to int32 as 0 and to bool as true; ONNX leaves NaN→int undefined.
    if (from === 'float32' && target === 'int32') return undefined;
    const build = () =>
      graphOf(
        { nodes: [node('Cast', ['x'], 'y', [attr.int('to', ONNX_TYPE_CODES[target])])] },
        [['x', from]],
        target,
      );
    return runGraph(
      ctx,
      backend,
      `Cast:${from}:${target}`,
      build,
      [x],
      [{ shape: x.shape, dtype: to }],
    )[0];
  },
};

const ONNX_TYPE_CODES: Record<OnnxElementType, number> = {
  float32: 1,
  int32: 6,
  int64: 7,
  bool: 9,
};

/** Select(condition, t, e) = where(condition, t, e), with broadcasting like TF.js's `where`. */
export const select: AcceleratedKernel = {
  kernelName: 'Select',
  run({ inputs, backend }, ctx) {
    const { condition, t, e } = inputs as { condition: TensorInfo; t: TensorInfo; e: TensorInfo };
    if (
      condition.dtype !== 'bool' ||
      t.dtype !== e.dtype ||
      (t.dtype !== 'float32' && t.dtype !== 'int32')
    )
      return undefined;
    // TF.js's Select takes t's shape (the op broadcasts beforehand); a rank-1 condition picks rows.
    if (condition.shape.length !== t.shape.length) return undefined;
    const shape = broadcastShapes(broadcastShapes(condition.shape, t.shape) ?? [], e.shape);
    if (!shape || sizeOf(shape) < ctx.minElements || sizeOf(shape) !== sizeOf(t.shape))
      return undefined;
    const type = t.dtype as OnnxElementType;
    const build = () =>
      graphOf(
        { nodes: [node('Where', ['c', 't', 'e'], 'y')] },
        [
          ['c', 'bool'],
          ['t', type],
          ['e', type],
        ],
        type,
      );
    return runGraph(
      ctx,
      backend,
      `Select:${type}`,
      build,
      [condition, t, e],
      [{ shape, dtype: t.dtype }],
    )[0];
  },
};

const onnxPow = binaryKernel(op2('Pow', 'Pow'));

export const ELEMENTWISE_KERNELS: readonly AcceleratedKernel[] = [
  ...UNARY.map(unaryKernel),
  ...BINARY.map(binaryKernel),
  pow,
  cast,
  select,
];
