/**
 * The linear memory of one thread's WebAssembly kernel instance, and a small allocator over it.
 * The memory is created `shared`, so its buffer is a SharedArrayBuffer: arrays placed in it are
 * ordinary shared typed arrays (they can be posted to worker threads) *and* addresses the kernels
 * read without a copy. Everything else the kernels touch is copied into a scratch block per call.
 *
 * Allocation is first-fit over a free list sorted by address, with neighbours merged on release;
 * blocks are 16-byte aligned (v128 loads are fastest aligned). The memory grows on demand up to
 * `maximumPages`; growing a shared memory never moves or detaches existing views.
 */
const PAGE_BYTES = 65536;

/** The slice of the WebAssembly JS API used here (the project's `lib` has no DOM typings). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
export interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
  validate(bytes: Uint8Array): boolean;
}
export const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const ALIGN_BYTES = 16;
/** Address 0 stays unused so a zero pointer is never a live block. */
const RESERVED_BYTES = 1024;

interface FreeBlock {
  offset: number;
  bytes: number;
}

export class WasmHeap {
  readonly memory: WasmMemory;
  /** Every SharedArrayBuffer object this memory has handed out (a new one after each grow). */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private readonly free: FreeBlock[] = [];
  private top = RESERVED_BYTES;
  private scratchOffset = 0;
  private scratchBytes = 0;
  private scratchUsed = 0;
  f64: Float64Array;
  f32: Float32Array;
  i32: Int32Array;

  /**
   * @example
   * const heap = new WasmHeap(16, 65536);
   * const at = heap.allocate(800); // 100 doubles at byte address `at`
   */
  constructor(
    initialPages: number,
    readonly maximumPages: number,
  ) {
    this.memory = new wasmApi.Memory({ initial: initialPages, maximum: maximumPages, shared: true });
    this.f64 = new Float64Array(0);
    this.f32 = new Float32Array(0);
    this.i32 = new Int32Array(0);
    this.refreshViews();
  }

  /** True when `view` lies in this memory, so kernels can read it at `view.byteOffset`. */
  contains(view: ArrayBufferView): boolean {
    return this.buffers.has(view.buffer) || view.buffer === this.buffer();
  }

  /**
   * The memory's current buffer, remembered so views over it stay recognised. V8 may hand out a new
   * SharedArrayBuffer object for the same memory at any grow — even another memory's grow in this
   * thread (observed on Node 20) — so identity with `memory.buffer` alone is not enough.
   */
  buffer(): SharedArrayBuffer {
    const buffer = this.memory.buffer as SharedArrayBuffer;
    this.buffers.add(buffer);
    return buffer;
  }

  /** Reserve `bytes` (rounded up to 16) and return the byte address. Throws RangeError when full. */
  allocate(bytes: number): number {
    const size = roundUp(Math.max(bytes, 1), ALIGN_BYTES);
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i]!;
      if (block.bytes < size) continue;
      const offset = block.offset;
      if (block.bytes === size) this.free.splice(i, 1);
      else {
        block.offset += size;
        block.bytes -= size;
      }
      return offset;
    }
    const offset = this.top;
    this.ensureCapacity(offset + size);
    this.top = offset + size;
    return offset;
  }

  /** Return a block from `allocate` (same `bytes`) to the free list. */
  release(offset: number, bytes: number): void {
    const size = roundUp(Math.max(bytes, 1), ALIGN_BYTES);
    let index = 0;
    while (index < this.free.length && this.free[index]!.offset < offset) index++;
    this.free.splice(index, 0, { offset, bytes: size });
    // Merge with the following, then the preceding neighbour.
    const next = this.free[index + 1];
    const block = this.free[index]!;
    if (next !== undefined && block.offset + block.bytes === next.offset) {
      block.bytes += next.bytes;
      this.free.splice(index + 1, 1);
    }
    const previous = this.free[index - 1];
    if (previous !== undefined && previous.offset + previous.bytes === block.offset) {
      previous.bytes += block.bytes;
      this.free.splice(index, 1);
    }
  }

  /**
   * Start a kernel call's scratch space of at least `bytes`; `take` then carves it up in order.
   * The block is kept between calls and only replaced when a call needs more.
   */
  beginScratch(bytes: number): void {
    if (bytes > this.scratchBytes) {
      if (this.scratchBytes > 0) this.release(this.scratchOffset, this.scratchBytes);
      // Grow geometrically so a sequence of slightly larger calls does not reallocate each time.
      const size = roundUp(Math.max(bytes, this.scratchBytes * 1.5), ALIGN_BYTES);
      this.scratchOffset = this.allocate(size);
      this.scratchBytes = size;
    }
    this.scratchUsed = 0;
  }

  /** The next `bytes` of the scratch block started by `beginScratch` (16-byte aligned address). */
  take(bytes: number): number {
    const offset = this.scratchOffset + this.scratchUsed;
    this.scratchUsed += roundUp(bytes, ALIGN_BYTES);
    if (this.scratchUsed > this.scratchBytes) throw new RangeError(`scratch overflow: ${this.scratchUsed} > ${this.scratchBytes} bytes`);
    return offset;
  }

  private ensureCapacity(endBytes: number): void {
    const currentBytes = this.memory.buffer.byteLength;
    if (endBytes <= currentBytes) return;
    const neededPages = Math.ceil((endBytes - currentBytes) / PAGE_BYTES);
    const currentPages = currentBytes / PAGE_BYTES;
    // At least double (amortised growth), never beyond the declared maximum.
    const pages = Math.min(Math.max(neededPages, currentPages), this.maximumPages - currentPages);
    if (pages < neededPages) {
      throw new RangeError(`WebAssembly kernel memory is full: need ${endBytes} bytes, maximum is ${this.maximumPages * PAGE_BYTES}`);
    }
    this.memory.grow(pages);
    this.refreshViews();
  }

  private refreshViews(): void {
    const buffer = this.buffer();
    this.f64 = new Float64Array(buffer);
    this.f32 = new Float32Array(buffer);
    this.i32 = new Int32Array(buffer);
  }
}

function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}
