/**
 * A tensor is a typed array with a shape — nothing more: no graph, no device, no global registry,
 * nothing to dispose (the garbage collector frees it). The first axis is the batch. Storage is
 * float32 for training speed (the WASM gemm runs 4 float32 lanes per SIMD op against 2 for
 * float64) or float64 where exactness matters (gradient checks).
 *
 * @example
 * const x = zeros('float32', [64, 28, 28, 1]);
 * const flat = reshape(x, [64, 784]); // a view over the same data
 */
import type { DType, FloatArray } from '../core/storage.js';

export interface Tensor {
  readonly shape: readonly number[];
  readonly data: FloatArray;
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const extent of shape) size *= extent;
  return size;
}

export function dtypeArray(dtype: DType, length: number): FloatArray {
  return dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

export function zeros(dtype: DType, shape: readonly number[]): Tensor {
  return { shape: [...shape], data: dtypeArray(dtype, sizeOf(shape)) };
}

/** A tensor over `data` (no copy); its length must match the shape. */
export function tensor(data: FloatArray, shape: readonly number[]): Tensor {
  if (data.length !== sizeOf(shape)) {
    throw new RangeError(`tensor: shape [${shape.join(', ')}] needs ${sizeOf(shape)} values, got ${data.length}`);
  }
  return { shape: [...shape], data };
}

/** The same data under another shape of the same size (a view, no copy). */
export function reshape(t: Tensor, shape: readonly number[]): Tensor {
  return tensor(t.data, shape);
}

/**
 * A buffer of `length` elements of `dtype`: `previous` itself when it fits exactly, else a new one.
 * Layers keep their scratch and outputs across batches this way, so training allocates nothing per
 * step once the batch size is steady. The contents are NOT cleared.
 */
export function reuse(previous: FloatArray | null, dtype: DType, length: number): FloatArray {
  if (previous !== null && previous.length === length && (previous instanceof Float32Array) === (dtype === 'float32')) return previous;
  return dtypeArray(dtype, length);
}
