/**
 * Typed arrays that grow by doubling, for loaders that stream a file of unknown row count: values
 * go straight into numeric storage (8 or 4 bytes each) instead of JS arrays of boxed numbers.
 *
 * @example
 * const values = new GrowableArray('float64');
 * values.push(1.5);
 * const exact = values.finish('heap'); // Float64Array of length 1
 */
import type { DType, FloatArray, Placement } from '../core/storage.js';
import { allocate } from '../core/storage.js';

export class GrowableArray {
  private data: FloatArray;
  /** Number of elements written. */
  length = 0;

  constructor(
    readonly dtype: DType,
    initialCapacity = 1024,
  ) {
    this.data = allocate(dtype, Math.max(16, initialCapacity));
  }

  /** Make room for `extra` more elements. */
  reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.data.length) return;
    // Doubling keeps pushes amortised O(1); a large reserve (a size estimate) is taken exactly.
    const capacity = Math.max(needed, this.data.length * 2);
    const bigger = allocate(this.dtype, capacity);
    bigger.set(this.data.subarray(0, this.length));
    this.data = bigger;
  }

  push(value: number): void {
    if (this.length === this.data.length) this.reserve(1);
    this.data[this.length++] = value;
  }

  /** The backing array; valid up to `length`, and only until the next `reserve`/`push`. */
  get buffer(): FloatArray {
    return this.data;
  }

  /** Drop elements from `length` on (undo a partly written row). */
  truncate(length: number): void {
    this.length = Math.min(this.length, length);
  }

  /** The written elements as an exact-length array in the requested placement (one copy). */
  finish(placement: Placement): FloatArray {
    const out = allocate(this.dtype, this.length, placement);
    out.set(this.data.subarray(0, this.length));
    return out;
  }
}
