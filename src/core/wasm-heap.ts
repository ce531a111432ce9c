/**
 * The linear memory of a WebAssembly kernel instance, and a small allocator over it.
 * The memory is created `shared`, so its buffer is a SharedArrayBuffer: arrays placed in it are
 * ordinary shared typed arrays (they can be posted to worker threads) *and* addresses the kernels
 * read without a copy. Everything else the kernels touch is copied into a scratch block per call.
 *
 * Allocation is first-fit over a free list sorted by address, with neighbours merged on release;
 * blocks start and end on 128-byte boundaries (`ALIGN_BYTES`: no two blocks share a cache line). The memory grows on demand up to
 * `maximumPages`; growing a shared memory never moves or detaches existing views.
 *
 * The allocator's state (a lock, the top of the used space and the free list, threaded through the
 * free blocks themselves) lives in the memory it manages, not in this object: a worker thread that
 * receives the memory (`WasmHeap.attach`) allocates from it beside the thread that created it, and
 * its kernel instance reads the data placed there in place (the threads paradigm, DESIGN.md
 * "one buffer for threads and kernels"). Each heap object keeps only its own scratch block.
 */
import { randomInt } from 'node:crypto';
import { ShardlearnError } from './errors.js';

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

/**
 * Blocks are carved in 128-byte units, so no two blocks share a cache line, nor the pair of lines
 * the adjacent-line prefetcher fetches together. Threads ranks allocate from this one memory at the
 * same moments (a row pass's sums: 51 doubles each) and write into their blocks on every row; at
 * 16-byte units two ranks' blocks were neighbours on one line, and a threads×2 L-BFGS fit (1M×50)
 * spent 0.75–0.79 s where the same code with padded sums took 0.56–0.59 s (sequential 1.03 s).
 * v128 loads want 16; 128 is a multiple.
 */
const ALIGN_BYTES = 128;
/** One allocation unit in Int32 words (the free list's header words index by it). */
const UNIT_WORDS = ALIGN_BYTES / 4;
/** A call's scratch pieces (one thread's block, carved by `take`) only need v128 alignment. */
const SCRATCH_ALIGN_BYTES = 16;
/** Address 0 stays unused so a zero pointer is never a live block; the allocator's header lives here. */
const RESERVED_BYTES = 1024;
/**
 * The header, as Int32 indices into the memory: the lock word (0 free, 1 held), the top of the used
 * space and the first free block (both in `ALIGN_BYTES` units; no free block: 0), and a mark that says
 * the memory was set up by a WasmHeap. A free block holds its size and the next free block's
 * address (in units) in its first two words.
 */
const LOCK = 4;
const TOP = 5;
const FREE = 6;
const MARK = 7;
const MARK_VALUE = 0x68656170; // 'heap'
/** Two words of a random identity, drawn when the memory is set up: `sameMemory` compares them. */
const IDENTITY = 8;
/** Longest a thread waits for the allocator's lock (held for microseconds: a longer wait means a thread died holding it). */
const LOCK_TIMEOUT_MS = 10_000;

/** What another thread needs to allocate in a heap's memory and recognise the arrays placed there (`WasmHeap.attach`). */
export interface SharedWasmHeap {
  readonly memory: WasmMemory;
  readonly maximumPages: number;
  /** The buffer objects handed out so far: posted with the arrays over them, they arrive as the same objects. */
  readonly buffers: readonly SharedArrayBuffer[];
}

export class WasmHeap {
  readonly memory: WasmMemory;
  /** Every SharedArrayBuffer object this memory has handed out (a new one after each grow) or that came with it. */
  private readonly buffers = new Set<ArrayBufferLike>();
  private scratchOffset = 0;
  private scratchBytes = 0;
  private scratchUsed = 0;
  f64: Float64Array;
  f32: Float32Array;
  i32: Int32Array;

  /**
   * A new memory of `initialPages`, or (`existing`) one set up by another WasmHeap: `attach`.
   * @example
   * const heap = new WasmHeap(16, 65536);
   * const at = heap.allocate(800); // 100 doubles at byte address `at`
   */
  constructor(
    initialPages: number,
    readonly maximumPages: number,
    existing?: WasmMemory,
  ) {
    this.memory = existing ?? new wasmApi.Memory({ initial: Math.max(initialPages, 1), maximum: maximumPages, shared: true });
    this.f64 = new Float64Array(0);
    this.f32 = new Float32Array(0);
    this.i32 = new Int32Array(0);
    this.refreshViews();
    if (existing === undefined) {
      this.i32[TOP] = RESERVED_BYTES / ALIGN_BYTES;
      this.i32[IDENTITY] = randomInt(0x7fffffff);
      this.i32[IDENTITY + 1] = randomInt(0x7fffffff);
      this.i32[MARK] = MARK_VALUE;
    } else if (Atomics.load(this.i32, MARK) !== MARK_VALUE) {
      throw new ShardlearnError(
        'CONFIG',
        'WasmHeap.attach: this WebAssembly memory was not set up by a WasmHeap (its allocator header is missing)',
      );
    }
  }

  /**
   * A heap over another thread's memory (`share()` posted to this thread): both allocate from it,
   * under one lock, and each recognises the arrays the other placed there.
   * @example
   * // main thread: worker.postMessage({ heap: kernels.heap.share(), x }); in the worker:
   * const heap = WasmHeap.attach(message.heap); // heap.contains(message.x) === true
   */
  static attach(shared: SharedWasmHeap): WasmHeap {
    const heap = new WasmHeap(0, shared.maximumPages, shared.memory);
    for (const buffer of shared.buffers) heap.buffers.add(buffer);
    return heap;
  }

  /**
   * True when `shared` (posted by another thread, perhaps as new wrapper objects) is this heap's
   * memory: the identity drawn when it was set up matches (62 random bits).
   */
  sameMemory(shared: SharedWasmHeap): boolean {
    if (shared.maximumPages !== this.maximumPages) return false;
    const theirs = new Int32Array(shared.memory.buffer, 0, RESERVED_BYTES / 4);
    return (
      Atomics.load(theirs, MARK) === MARK_VALUE &&
      Atomics.load(theirs, IDENTITY) === Atomics.load(this.i32, IDENTITY) &&
      Atomics.load(theirs, IDENTITY + 1) === Atomics.load(this.i32, IDENTITY + 1)
    );
  }

  /**
   * Recognise the buffer objects `shared` came with (this heap's memory, posted again: `sameMemory`)
   * in place of the ones an earlier attachment brought, so the arrays of a new job are read in place.
   */
  adopt(shared: SharedWasmHeap): void {
    this.buffers.clear();
    for (const buffer of shared.buffers) this.buffers.add(buffer);
    this.buffer();
  }

  /** This memory as another thread attaches to it. */
  share(): SharedWasmHeap {
    this.buffer();
    return { memory: this.memory, maximumPages: this.maximumPages, buffers: [...this.buffers] as SharedArrayBuffer[] };
  }

  /** True when `view` lies in this memory, so kernels can read it at `view.byteOffset`. */
  contains(view: ArrayBufferView): boolean {
    const buffer = view.buffer;
    if (this.buffers.has(buffer)) return true;
    // An ordinary ArrayBuffer is never this memory: answered without asking the memory for its
    // buffer (a call into V8, ~1 µs per SGD step over the operands of two kernels).
    return buffer instanceof SharedArrayBuffer && buffer === this.buffer();
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

  /** Reserve `bytes` (rounded up to `ALIGN_BYTES`) and return the byte address. Throws RangeError when full. */
  allocate(bytes: number): number {
    const units = roundUp(Math.max(bytes, 1), ALIGN_BYTES) / ALIGN_BYTES;
    this.lock();
    try {
      const words = this.i32;
      let previous = 0;
      for (let block = words[FREE]!; block !== 0; block = words[block * UNIT_WORDS + 1]!) {
        const size = words[block * UNIT_WORDS]!;
        if (size >= units) {
          let replacement = words[block * UNIT_WORDS + 1]!;
          if (size > units) {
            // Take the front of the block; the rest stays free where it was in the list.
            const rest = block + units;
            words[rest * UNIT_WORDS] = size - units;
            words[rest * UNIT_WORDS + 1] = replacement;
            replacement = rest;
          }
          if (previous === 0) words[FREE] = replacement;
          else words[previous * UNIT_WORDS + 1] = replacement;
          return block * ALIGN_BYTES;
        }
        previous = block;
      }
      const top = words[TOP]!;
      this.ensureCapacity((top + units) * ALIGN_BYTES);
      this.i32[TOP] = top + units;
      return top * ALIGN_BYTES;
    } finally {
      this.unlock();
    }
  }

  /** Bytes in blocks allocated and not yet released, every thread's (scratch blocks included): for leak checks. */
  usedBytes(): number {
    this.lock();
    try {
      const words = this.i32;
      let free = 0;
      for (let block = words[FREE]!; block !== 0; block = words[block * UNIT_WORDS + 1]!) free += words[block * UNIT_WORDS]!;
      return (words[TOP]! - free) * ALIGN_BYTES - RESERVED_BYTES;
    } finally {
      this.unlock();
    }
  }

  /** Return a block from `allocate` (same `bytes`) to the free list. */
  release(offset: number, bytes: number): void {
    const block = offset / ALIGN_BYTES;
    let size = roundUp(Math.max(bytes, 1), ALIGN_BYTES) / ALIGN_BYTES;
    this.lock();
    try {
      const words = this.i32;
      let previous = 0;
      let next = words[FREE]!;
      while (next !== 0 && next < block) {
        previous = next;
        next = words[next * UNIT_WORDS + 1]!;
      }
      // Merge with the following, then the preceding neighbour.
      if (next !== 0 && block + size === next) {
        size += words[next * UNIT_WORDS]!;
        next = words[next * UNIT_WORDS + 1]!;
      }
      if (previous !== 0 && previous + words[previous * UNIT_WORDS]! === block) {
        words[previous * UNIT_WORDS]! += size;
        words[previous * UNIT_WORDS + 1] = next;
        return;
      }
      words[block * UNIT_WORDS] = size;
      words[block * UNIT_WORDS + 1] = next;
      if (previous === 0) words[FREE] = block;
      else words[previous * UNIT_WORDS + 1] = block;
    } finally {
      this.unlock();
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
      this.scratchBytes = 0;
      this.scratchOffset = this.allocate(size);
      this.scratchBytes = size;
    }
    this.scratchUsed = 0;
  }

  /** The next `bytes` of the scratch block started by `beginScratch` (16-byte aligned address). */
  take(bytes: number): number {
    const offset = this.scratchOffset + this.scratchUsed;
    this.scratchUsed += roundUp(bytes, SCRATCH_ALIGN_BYTES);
    if (this.scratchUsed > this.scratchBytes) throw new RangeError(`scratch overflow: ${this.scratchUsed} > ${this.scratchBytes} bytes`);
    return offset;
  }

  /** Give this heap's scratch block back to the memory (a heap attached for one job, at its end). */
  releaseScratch(): void {
    if (this.scratchBytes === 0) return;
    this.release(this.scratchOffset, this.scratchBytes);
    this.scratchBytes = 0;
    this.scratchUsed = 0;
  }

  /** Take the allocator's lock (shared by every thread's heap over this memory) and bring the views up to the memory's size. */
  private lock(): void {
    const words = this.i32;
    if (Atomics.compareExchange(words, LOCK, 0, 1) !== 0) {
      const deadline = performance.now() + LOCK_TIMEOUT_MS;
      while (Atomics.compareExchange(words, LOCK, 0, 1) !== 0) {
        if (performance.now() > deadline) {
          throw new ShardlearnError(
            'TIMEOUT',
            `WasmHeap: the allocator's lock was held for ${LOCK_TIMEOUT_MS} ms (a thread stopped while allocating?)`,
          );
        }
        Atomics.wait(words, LOCK, 1, 1);
      }
    }
    // Another thread may have grown the memory: free blocks can lie beyond this thread's views.
    if (this.memory.buffer.byteLength !== this.i32.byteLength) this.refreshViews();
  }

  private unlock(): void {
    Atomics.store(this.i32, LOCK, 0);
    Atomics.notify(this.i32, LOCK, 1);
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
