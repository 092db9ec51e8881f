/**
 * core's `PosencAdamWUpdate` kernel: one AdamW step of one parameter as a single ONNX Runtime
 * run, reading param, grad and both moments from the host's memory and writing the three new
 * tensors in place. TF.js ops would make ~13 tensors per parameter per step, each a separate
 * single-threaded pass over the data; this is one multithreaded run.
 *
 * The nodes follow core's composite update op for op (same float32 operations, same order), so
 * the result is the same to the bit; the step's coefficients are fed as scalar inputs, so one
 * session serves every step and every parameter.
 */
import { ADAMW_UPDATE_KERNEL, type AdamWUpdateAttrs, type tf } from '@posenc/core';
import type { OnnxGraph } from '../onnx/model.js';
import { onnxNode as node } from '../onnx/nodes.js';
import type { NativeTensorArg } from '../ort/binding.js';
import type { AcceleratedKernel } from './kernel-context.js';

const COEFFICIENTS = [
  'decay',
  'beta1',
  'oneMinusBeta1',
  'beta2',
  'oneMinusBeta2',
  'secondMomentCorrection',
  'eps',
  'stepSize',
] as const satisfies readonly (keyof AdamWUpdateAttrs)[];

function buildGraph(): OnnxGraph {
  return {
    nodes: [
      node('Mul', ['param', 'decay'], 'decayed'),
      node('Mul', ['m', 'beta1'], 'm_kept'),
      node('Mul', ['grad', 'oneMinusBeta1'], 'm_new'),
      node('Add', ['m_kept', 'm_new'], 'next_m'),
      node('Mul', ['v', 'beta2'], 'v_kept'),
      node('Mul', ['grad', 'grad'], 'grad_squared'),
      node('Mul', ['grad_squared', 'oneMinusBeta2'], 'v_new'),
      node('Add', ['v_kept', 'v_new'], 'next_v'),
      node('Sqrt', ['next_v'], 'root_v'),
      node('Div', ['root_v', 'secondMomentCorrection'], 'corrected_root_v'),
      node('Add', ['corrected_root_v', 'eps'], 'denominator'),
      node('Div', ['next_m', 'denominator'], 'direction'),
      node('Mul', ['direction', 'stepSize'], 'update'),
      node('Sub', ['decayed', 'update'], 'next_param'),
    ],
    inputs: ['param', 'grad', 'm', 'v', ...COEFFICIENTS].map((name) => ({
      name,
      type: 'float32' as const,
    })),
    outputs: ['next_param', 'next_m', 'next_v'].map((name) => ({
      name,
      type: 'float32' as const,
    })),
  };
}

export const adamWUpdate: AcceleratedKernel = {
  kernelName: ADAMW_UPDATE_KERNEL,
  run({ inputs, attrs, backend }, ctx) {
    const { param, grad, m, v } = inputs as Record<'param' | 'grad' | 'm' | 'v', tf.TensorInfo>;
    const tensors = [param, grad, m, v];
    if (tensors.some((t) => t.dtype !== 'float32')) return undefined;
    const shape = param.shape;
    for (const t of tensors)
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
        return undefined;
    const a = attrs as unknown as AdamWUpdateAttrs;
    const memory = ctx.memoryOf(backend);
    // Outputs first: an allocation may grow (and so move) the wasm heap under earlier views.
    const outputs = [0, 1, 2].map(() => memory.allocate(shape, 'float32'));
    if (shape.includes(0)) return outputs;
    const arg = (info: tf.TensorInfo): NativeTensorArg => ({
      type: 'float32',
      dims: info.shape,
      data: memory.view(info),
    });
    const scalars = COEFFICIENTS.map((name): NativeTensorArg => ({
      type: 'float32',
      dims: [],
      data: new Float32Array([a[name]]),
    }));
    ctx.sessions
      .get(ADAMW_UPDATE_KERNEL, buildGraph)
      .run([...tensors.map(arg), ...scalars], outputs.map(arg));
    return outputs;
  },
};
