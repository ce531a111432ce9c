/**
 * The sum all-reduce's hot loops in WebAssembly SIMD (assembly/reduce.ts): `target += source` with
 * the finiteness check of the wire values in the same pass, and the check alone before a copy.
 *
 * WASM reads only its own memory, so each block is copied in and the sum copied back out; the copies
 * run at memcpy speed, the arithmetic 4 (float32) or 2 (float64) lanes at a time. Measured on this
 * machine (2 vCPU Xeon, loaded), 128 Ki float32 values: the TypeScript loop of collectives/reduce.ts
 * 195–290 µs for the checked sum, 90–170 µs for the check alone; this path 3 copies plus the kernel.
 * Blocks of BLOCK_BYTES keep both operands in the L2 cache between the copy and the kernel.
 *
 * A segment received from the wire can be read straight into this memory (`stage`, for links that
 * receive into given memory — the lane; collectives/link.ts): a source there is not copied in again,
 * which saves one of the sum's three copies and the check's only one (a pass over the segment each).
 *
 * One module instance per thread, on its own small memory (not the kernels' heap: the collectives
 * must not depend on which kernel backend a model chose). When the module is missing or has no
 * reduce kernels (an older build), `wasmReduce()` is null and the TypeScript loops do the work.
 *
 * @example
 * const bad = wasmReduce()?.sumFinite(target, source) ?? sumInTypeScript(target, source);
 */
import { readFileSync } from 'node:fs';
import { wasmApi } from '../../core/wasm-heap.js';
import type { WasmMemory } from '../../core/wasm-heap.js';
import type { FloatArray } from '../../core/storage.js';

/** Bytes of each operand copied in per kernel call. */
const BLOCK_BYTES = 128 * 1024;
/** The staging area's bytes: the communicator's default segment (zmq/communicator.ts), so every segment of the default size fits. */
export const STAGE_BYTES = 4 * 1024 * 1024;
const PAGE_BYTES = 65536;
/** Below this many values the copies cost more than the TypeScript loop saves. */
export const WASM_MIN_VALUES = 512;

interface ReduceExports {
  sumFinite32(n: number, target: number, source: number): number;
  sumFinite64(n: number, target: number, source: number): number;
  nonFinite32(n: number, source: number): number;
  nonFinite64(n: number, source: number): number;
}

/** The WASM reduce kernels; each returns whether a value of `source` is not finite (±∞ or NaN). */
export interface WasmReduce {
  /** target += source; true when a value of `source` is not finite (then find it and fail). */
  sumFinite(target: FloatArray, source: FloatArray): boolean;
  /** Whether a value of `source` is not finite. */
  nonFinite(source: FloatArray): boolean;
  /**
   * A view of `length` values of `kind`'s dtype in this memory, to receive a segment into (a source
   * there is not copied in again); null when it does not fit or the area is in use (until `unstage`).
   */
  stage(kind: FloatArray, length: number): FloatArray | null;
  /** Give the staging area back. */
  unstage(): void;
}

function moduleBytes(): Uint8Array | null {
  // <outDir>/src/comm/collectives/wasm-reduce.js → <outDir>/wasm/, then the package's dist/wasm/.
  for (const url of [
    new URL('../../../wasm/kernels.wasm', import.meta.url),
    new URL('../../../../dist/wasm/kernels.wasm', import.meta.url),
  ]) {
    try {
      return readFileSync(url);
    } catch {
      // try the next
    }
  }
  return null;
}

function instantiate(): WasmReduce | null {
  const bytes = moduleBytes();
  if (bytes === null) return null;
  let memory: WasmMemory;
  let kernels: ReduceExports;
  try {
    // Two operand blocks above the first page (address 0 stays unused), then the staging area; the
    // module imports a shared memory. Pages the staging area never uses are never touched.
    const pages = 1 + (2 * BLOCK_BYTES + STAGE_BYTES) / PAGE_BYTES;
    memory = new wasmApi.Memory({ initial: pages, maximum: pages, shared: true });
    const instance = new wasmApi.Instance(new wasmApi.Module(bytes), { env: { memory } });
    kernels = instance.exports as ReduceExports;
    if (typeof kernels.sumFinite32 !== 'function') return null;
  } catch {
    return null;
  }
  const targetAt = PAGE_BYTES;
  const sourceAt = PAGE_BYTES + BLOCK_BYTES;
  const stageAt = PAGE_BYTES + 2 * BLOCK_BYTES;
  const buffer = memory.buffer as SharedArrayBuffer;
  let staged = false;
  /** Whether `array` is a view of this memory (a staged segment): its address is its byte offset. */
  const inMemory = (array: FloatArray): boolean => array.buffer === buffer;
  const f32 = { target: new Float32Array(buffer, targetAt, BLOCK_BYTES / 4), source: new Float32Array(buffer, sourceAt, BLOCK_BYTES / 4) };
  const f64 = { target: new Float64Array(buffer, targetAt, BLOCK_BYTES / 8), source: new Float64Array(buffer, sourceAt, BLOCK_BYTES / 8) };
  return {
    sumFinite(target, source) {
      const single = target instanceof Float32Array;
      const views = single ? f32 : f64;
      const block = views.target.length;
      const kernel = single ? kernels.sumFinite32 : kernels.sumFinite64;
      const sourceInMemory = inMemory(source);
      let bad = 0;
      for (let start = 0; start < target.length; start += block) {
        const end = Math.min(target.length, start + block);
        const t = target.subarray(start, end);
        views.target.set(t);
        if (!sourceInMemory) views.source.set(source.subarray(start, end));
        bad |= kernel(end - start, targetAt, sourceInMemory ? source.byteOffset + start * source.BYTES_PER_ELEMENT : sourceAt);
        t.set(views.target.subarray(0, end - start));
      }
      return bad !== 0;
    },
    nonFinite(source) {
      const single = source instanceof Float32Array;
      const views = single ? f32 : f64;
      const block = views.source.length;
      const kernel = single ? kernels.nonFinite32 : kernels.nonFinite64;
      if (inMemory(source)) return kernel(source.length, source.byteOffset) !== 0;
      for (let start = 0; start < source.length; start += block) {
        const end = Math.min(source.length, start + block);
        views.source.set(source.subarray(start, end));
        if (kernel(end - start, sourceAt) !== 0) return true;
      }
      return false;
    },
    stage(kind, length) {
      if (staged || length * kind.BYTES_PER_ELEMENT > STAGE_BYTES) return null;
      staged = true;
      return kind instanceof Float32Array ? new Float32Array(buffer, stageAt, length) : new Float64Array(buffer, stageAt, length);
    },
    unstage() {
      staged = false;
    },
  };
}

let loaded: WasmReduce | null | undefined;

/** This thread's WASM reduce kernels, or null when they cannot load here (the TypeScript loops then serve). */
export function wasmReduce(): WasmReduce | null {
  if (loaded === undefined) loaded = process.env['SHARDLEARN_WASM_REDUCE'] === '0' ? null : instantiate();
  return loaded;
}
