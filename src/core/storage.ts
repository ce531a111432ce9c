/**
 * Where numeric buffers live. Data shards, parameters and gradients are typed arrays over either the
 * ordinary heap or a SharedArrayBuffer. Shared storage is what lets worker threads see one copy of
 * the data (no per-worker copy), and a shared `WebAssembly.Memory`'s buffer *is* a SharedArrayBuffer,
 * so a WASM kernel backend can later install an allocator that carves buffers out of its own linear
 * memory (`setSharedAllocator`) and every dataset loaded afterwards is addressable by its kernels
 * without a copy. DESIGN.md asks the foundation to decide this; this module is that decision.
 */
export type DType = 'float32' | 'float64';
export type FloatArray = Float32Array | Float64Array;
export type Placement = 'heap' | 'shared';

/** Carves `byteLength` bytes out of shared memory; returns the buffer and the byte offset to use. */
export type SharedAllocator = (byteLength: number, alignment: number) => { buffer: SharedArrayBuffer; byteOffset: number };

const defaultSharedAllocator: SharedAllocator = (byteLength) => ({ buffer: new SharedArrayBuffer(byteLength), byteOffset: 0 });
let sharedAllocator: SharedAllocator = defaultSharedAllocator;

/** Replace how shared buffers are obtained (e.g. from a shared WebAssembly.Memory); returns the previous allocator. */
export function setSharedAllocator(allocator: SharedAllocator | null): SharedAllocator {
  const previous = sharedAllocator;
  sharedAllocator = allocator ?? defaultSharedAllocator;
  return previous;
}

export function bytesPerElement(dtype: DType): number {
  return dtype === 'float32' ? 4 : 8;
}

export function dtypeOf(array: FloatArray): DType {
  return array instanceof Float32Array ? 'float32' : 'float64';
}

/** A zero-filled float array of `length` elements, on the heap or in shared memory. */
export function allocate(dtype: DType, length: number, placement: Placement = 'heap'): FloatArray {
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`allocate: length must be a non-negative integer, got ${length}`);
  if (placement === 'heap') return dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
  const size = bytesPerElement(dtype);
  const { buffer, byteOffset } = sharedAllocator(length * size, size);
  return dtype === 'float32' ? new Float32Array(buffer, byteOffset, length) : new Float64Array(buffer, byteOffset, length);
}

export function isShared(array: ArrayBufferView): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && array.buffer instanceof SharedArrayBuffer;
}

/** The same values in shared memory: `array` itself when it already is shared, else one copy. */
export function toShared<T extends FloatArray>(array: T): T {
  if (isShared(array)) return array;
  const copy = allocate(dtypeOf(array), array.length, 'shared') as T;
  copy.set(array);
  return copy;
}
