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
import { kernels } from '../core/kernels.js';
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

/** The block each view handed out by `reuse` was cut from (it keeps the block alive with the view). */
const backings = new WeakMap<FloatArray, FloatArray>();

/**
 * A buffer of `length` elements of `dtype`: `previous` itself when it fits exactly, else a view of
 * `previous`'s block when that block is big enough, else a view of a new block (1.5× the old one,
 * so a sequence of growing lengths reallocates only a few times). Layers keep their scratch and
 * outputs across batches this way, so training allocates nothing but a view per step even when the
 * batch size varies — as it does per worker under data-parallel training, where each worker takes
 * the rows of the global batch that fall in its shard. The contents are NOT cleared.
 *
 * Blocks are workspaces of the active kernel backend: with WASM they live in the module's memory,
 * so the gemm and layer kernels work on them in place instead of copying them in and out per call,
 * and a block is released once it is garbage-collected. Keep the returned view itself (not only a
 * subarray of it) as long as you use it.
 */
export function reuse(previous: FloatArray | null, dtype: DType, length: number): FloatArray {
  const float32 = dtype === 'float32';
  if (previous !== null && previous.length === length && previous instanceof Float32Array === float32) return previous;
  let block = previous === null ? undefined : (backings.get(previous) ?? previous);
  if (block === undefined || block.length < length || block instanceof Float32Array !== float32) {
    const grown = block !== undefined && block instanceof Float32Array === float32 ? Math.ceil(block.length * 1.5) : 0;
    block = kernels().workspace(dtype, Math.max(length, grown));
  }
  if (block.length === length) return block;
  const view = block.subarray(0, length);
  backings.set(view, block);
  return view;
}
