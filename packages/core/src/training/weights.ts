/**
 * Parameters to and from safetensors tensors keyed by parameter name. Works in any runtime:
 * the bytes come from `readSafetensors` (bytes, a Response, a URL, or a path in Node).
 */
import { tf } from '../engine/tf.js';
import {
  decodeToFloat32,
  encodeTensorEntry,
  serializeSafetensors,
  type TensorEntry,
} from '../io/safetensors.js';
import { readSafetensors, type SafetensorsSource } from '../io/safetensors-source.js';
import { sameShape } from './adamw.js';

type Parameters = Readonly<Record<string, tf.Variable>>;

/** The bytes of a safetensors file holding `parameters` as F32 tensors named by their keys. */
export async function weightsToSafetensors(
  parameters: Parameters,
  metadata: Record<string, string> | null = null,
): Promise<Uint8Array> {
  return serializeSafetensors(await encodeTensors(parameters), metadata);
}

export interface LoadWeightsOptions {
  /** When true (default), names present on one side only are an error; when false they are reported. */
  strict?: boolean;
}

export interface LoadedWeights {
  metadata: Record<string, string> | null;
  /** Parameters the file has no tensor for (left unchanged). */
  missing: string[];
  /** Tensors in the file that match no parameter (ignored). */
  unexpected: string[];
}

/**
 * Assigns the tensors of a safetensors file (bytes, a Response, a URL or, in Node, a path) to `parameters` in place (any float dtype is
 * converted to float32). Nothing is assigned unless every name and shape checks out; a mismatch
 * lists all differences.
 */
export async function loadWeights(
  source: SafetensorsSource,
  parameters: Parameters,
  options: LoadWeightsOptions = {},
): Promise<LoadedWeights> {
  const { metadata, tensors } = await readSafetensors(source);
  const { missing, unexpected, problems } = compareWithParameters(tensors, parameters);
  if (options.strict ?? true) {
    problems.unshift(
      ...missing.map((n) => `missing in file: ${n}`),
      ...unexpected.map((n) => `not a parameter: ${n}`),
    );
  }
  if (problems.length)
    throw new Error(
      `weights ${describeSource(source)} do not match the parameters:\n  ${problems.join('\n  ')}`,
    );
  assignAll(parameters, decodeMatching(tensors, parameters));
  return { metadata, missing, unexpected };
}

function describeSource(source: SafetensorsSource): string {
  if (typeof source === 'string') return source;
  if (source instanceof URL) return source.href;
  if (source instanceof Uint8Array || source instanceof ArrayBuffer)
    return `of ${source.byteLength} bytes`;
  return source.url || 'from the response';
}

/** Float32 tensors as safetensors F32 entries under their names. */
export async function encodeTensors(
  tensors: Readonly<Record<string, tf.Tensor>>,
): Promise<Record<string, TensorEntry>> {
  const entries: Record<string, TensorEntry> = {};
  for (const [name, tensor] of Object.entries(tensors)) {
    if (tensor.dtype !== 'float32')
      throw new Error(`tensor '${name}' is ${tensor.dtype}; only float32 is stored`);
    entries[name] = encodeTensorEntry((await tensor.data()) as Float32Array, tensor.shape, 'F32');
  }
  return entries;
}

export function compareWithParameters(
  tensors: ReadonlyMap<string, TensorEntry>,
  parameters: Parameters,
): { missing: string[]; unexpected: string[]; problems: string[] } {
  const missing = Object.keys(parameters).filter((name) => !tensors.has(name));
  const unexpected = [...tensors.keys()].filter((name) => !(name in parameters));
  const problems: string[] = [];
  for (const [name, entry] of tensors) {
    const param = parameters[name];
    if (param && !sameShape(param.shape, entry.shape))
      problems.push(
        `shape of ${name}: [${entry.shape}] in the file, [${param.shape}] in the model`,
      );
  }
  return { missing, unexpected, problems };
}

export function decodeMatching(
  tensors: ReadonlyMap<string, TensorEntry>,
  parameters: Parameters,
): Map<string, Float32Array> {
  const values = new Map<string, Float32Array>();
  for (const [name, entry] of tensors)
    if (name in parameters) values.set(name, decodeToFloat32(entry));
  return values;
}

export function assignAll(parameters: Parameters, values: ReadonlyMap<string, Float32Array>): void {
  for (const [name, data] of values) {
    const param = parameters[name]!;
    tf.tidy(() => param.assign(tf.tensor(data, param.shape, 'float32')));
  }
}
