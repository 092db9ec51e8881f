/**
 * Where a host backend keeps tensor data, seen as typed arrays that ONNX Runtime can read and
 * write in place: the wasm backend's heap, or the cpu backend's JS typed arrays. Both views are
 * zero-copy, so an accelerated kernel copies nothing on the way in or out.
 */
import type { tf } from '@posenc/core';
import { isWasmMemory, type WasmMemory } from './webassembly.js';

export type HostName = 'wasm' | 'cpu';
export type HostArray = Float32Array | Int32Array | Uint8Array;
type DataType = tf.DataType;
type TensorInfo = tf.TensorInfo;

export interface HostMemory {
  readonly host: HostName;
  /** A view of the tensor's data. On wasm it is invalidated by the next allocation (heap growth). */
  view(info: TensorInfo): HostArray;
  /** A new tensor of the backend, its data uninitialised (zero on cpu). */
  allocate(shape: readonly number[], dtype: DataType): TensorInfo;
  /**
   * The wasm host's memory itself, where the backend exposes it: loops compiled to wasm import
   * it and run on tensors in place, at their views' byte offsets.
   */
  readonly heap?: WasmMemory;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): HostArray;
  /** The Emscripten module; its `asm` holds the instance's exports, the memory among them. */
  wasm?: { asm?: { memory?: unknown } };
}

interface CpuBackendLike {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: DataType, values: HostArray): TensorInfo;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function typedArrayFor(dtype: DataType, size: number): HostArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'bool':
      return new Uint8Array(size);
    default:
      throw new Error(`dtype '${dtype}' has no typed-array storage`);
  }
}

export function wasmMemory(backend: unknown): HostMemory {
  const wasm = backend as WasmBackendLike;
  const heap = wasm.wasm?.asm?.memory;
  return {
    host: 'wasm',
    view: (info) => wasm.typedArrayFromHeap(info),
    allocate: (shape, dtype) => wasm.makeOutput([...shape], dtype),
    ...(isWasmMemory(heap) && { heap }),
  };
}

export function cpuMemory(backend: unknown): HostMemory {
  const cpu = backend as CpuBackendLike;
  return {
    host: 'cpu',
    view(info) {
      const values = cpu.data.get(info.dataId).values;
      if (!ArrayBuffer.isView(values))
        throw new Error(`tensor of dtype ${info.dtype} has no typed-array data on the cpu backend`);
      // tfjs-backend-cpu sometimes stores int32 or bool data in a Float32Array (e.g. int32 slices
      // of float buffers); ONNX Runtime needs the array type of the dtype, so such data is copied.
      // Outputs are always allocated with the right type, so they are written in place.
      const expected = typedArrayFor(info.dtype, 0).constructor as new (
        source: ArrayLike<number>,
      ) => HostArray;
      return values instanceof expected
        ? values
        : new expected(values as unknown as ArrayLike<number>);
    },
    allocate: (shape, dtype) =>
      cpu.makeTensorInfo([...shape], dtype, typedArrayFor(dtype, sizeOf(shape))),
  };
}
