/**
 * The WebAssembly SIMD kernel backend (`wasm`): the AssemblyScript module in assembly/ compiled to
 * dist/wasm/kernels.wasm, instantiated once per thread over that thread's `WasmHeap` — and, in a
 * threads-paradigm worker, once more over the launching thread's memory for the job
 * (`shareWasmKernels`/`attachWasmKernels`), so the worker's kernels read the shared data in place.
 *
 * What runs where, and why (figures: docs/notes/kernels.md, `npm run bench:kernels`):
 * - gemm, syrk, nearestCenter run in WASM. They do O(n³)-like work on O(n²) data, so copying
 *   operands that live outside WASM memory costs little; syrk and nearestCenter copy X in row
 *   chunks so a large dataset is never duplicated whole.
 * - dot, axpy, scal and gemv do as much work as there are bytes: a copy would cost as much as the
 *   operation. They run in WASM only when their arrays already live in WASM memory (zero copy, see
 *   `placeSharedArraysInWasmMemory`), else on the TypeScript reference.
 * - Problems below `minMultiplyAdds` run on the reference too: there the call and packing overhead
 *   exceeds the work.
 * Float32 gemm (all three operands float32) accumulates in float32 inside the micro-kernel, as any
 * sgemm does; every other path reads float32 data but computes in float64.
 *
 * Two builds of the module (`simd` below): `relaxed` (kernels-relaxed.wasm, the gemm multiply-add is
 * relaxed SIMD's fused `relaxed_madd`: 1024³ float32 47–50 vs 40 GFLOP/s, float64 23–24 vs 19) and
 * `plain` (kernels.wasm, standard SIMD only). `auto` (default) takes `relaxed` when this V8 accepts
 * it — Node 20's V8 11.3 only behind `--experimental-wasm-relaxed-simd`, which is switched on here
 * at run time — else `plain`. Fused and unfused results differ in the last bits, so gemm results
 * are bitwise reproducible for a given machine and build, not across builds; `plain` is the
 * portable choice (`SHARDLEARN_WASM_SIMD=plain`).
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { ConfigError } from './errors.js';
import type { Kernels, ResidentArray, ResidentTypes } from './kernels.js';
import { RESIDENT_ARRAYS, kernels, newResidentArray } from './kernels.js';
import { tsKernels } from './kernels-ts.js';
import { setSharedAllocator } from './storage.js';
import type { FloatArray } from './storage.js';
import { WasmHeap, wasmApi } from './wasm-heap.js';
import type { SharedWasmHeap } from './wasm-heap.js';
import { createWasmLayerKernels } from './kernels-wasm-layers.js';

/** The module's exports (assembly/index.ts); pointers are byte addresses, flags are 0/1. */
interface KernelExports {
  gemm64(
    transA: number,
    transB: number,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: number,
    lda: number,
    aF32: number,
    b: number,
    ldb: number,
    bF32: number,
    beta: number,
    c: number,
    ldc: number,
    work: number,
    upper: number,
  ): void;
  gemm64WorkBytes(): number;
  gemm32(
    transA: number,
    transB: number,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    beta: number,
    c: number,
    ldc: number,
    work: number,
  ): void;
  gemm32WorkBytes(): number;
  subtractRow(rows: number, d: number, x: number, xF32: number, v: number, out: number): void;
  symmetricEigen64(n: number, a: number, values: number, vectors: number, work: number): void;
  dot(n: number, x: number, xF32: number, y: number, yF32: number): number;
  axpy(n: number, alpha: number, x: number, y: number, f32: number): void;
  scal(n: number, alpha: number, x: number, f32: number): void;
  gemv(transA: number, m: number, n: number, alpha: number, a: number, lda: number, aF32: number, x: number, beta: number, y: number): void;
  syrk(m: number, n: number, a: number, lda: number, aF32: number, c: number, work: number): void;
  nearestCenter(
    m: number,
    d: number,
    x: number,
    xF32: number,
    k: number,
    centers: number,
    centerNorms: number,
    labels: number,
    distances: number,
    work: number,
  ): void;
  nearestCenterWorkBytes(d: number, k: number): number;
  gatherDot(count: number, rows: number, d: number, x: number, xF32: number, w: number, out: number): void;
  gatherAxpy(count: number, rows: number, d: number, x: number, xF32: number, weights: number, y: number): void;
  lloydStep(
    m: number,
    d: number,
    x: number,
    xF32: number,
    k: number,
    centers: number,
    centerNorms: number,
    labels: number,
    distances: number,
    stats: number,
    xNorms: number,
    lower: number,
    shifts: number,
    halfSeparation: number,
    work: number,
  ): void;
  lloydStepWorkBytes(d: number, k: number): number;
}

/** Which build of the module: standard SIMD only, or with relaxed SIMD (fused multiply-add). */
export type WasmSimd = 'plain' | 'relaxed';

export interface WasmKernelsOptions {
  /** Where the plain-SIMD module is; default: the build's dist/wasm/kernels.wasm. */
  wasmUrl?: URL;
  /** Where the relaxed-SIMD module is; default: kernels-relaxed.wasm beside `wasmUrl` (or the build's). */
  relaxedWasmUrl?: URL;
  /**
   * `auto` (default: `SHARDLEARN_WASM_SIMD`, else `auto`) uses the relaxed build when it exists and
   * this V8 accepts it, else the plain one; `relaxed` throws when it cannot; `plain` never tries it.
   */
  simd?: WasmSimd | 'auto';
  /** gemm/syrk/nearestCenter with fewer multiply-adds run on the TS reference (default 2048, ≈ 13³). */
  minMultiplyAdds?: number;
  /** dot/axpy/scal on arrays in WASM memory use WASM from this length (default 128). */
  minVectorLength?: number;
  /** gatherDot/gatherAxpy (rows × features) with fewer multiply-adds run on the TS reference (default 256, or `minMultiplyAdds` if lower). */
  minGatherMultiplyAdds?: number;
  /** Memory size limit in 64 KiB pages (default 65536 = 4 GiB, the wasm32 limit). */
  maximumPages?: number;
  /** Bytes of X copied per call by syrk/nearestCenter when X is outside WASM memory (default 4 MiB). */
  chunkBytes?: number;
  /** Instantiate over another thread's memory instead of a new one (`attachWasmKernels`); `maximumPages` is then its. */
  shared?: SharedWasmHeap;
  /**
   * A module another thread compiled (`SharedWasmKernels.module`), instantiated instead of compiling
   * the file here; `simd` must then name its build.
   */
  module?: WebAssemblyModule;
  /** Winograd forward passes for the convolutions that take them (WasmLayerOptions.winograd); default true. */
  winograd?: boolean;
}

/** A compiled WebAssembly.Module (this project's lib has no WebAssembly types: see wasm-heap.ts `wasmApi`). */
export type WebAssemblyModule = object;

/**
 * What a worker thread needs to run kernels over another thread's memory: that memory, the build in
 * use there, and its compiled module. Instances of one module share V8's compiled code across
 * threads, also the optimised code it tiers up to; a module compiled again in a fresh worker starts
 * over in the baseline compiler (Liftoff), and a single long call — a 500k-row syrk — stays in it
 * to the end: PCA full on 1M×100 took 0.59–0.65 s on threads×1 against 0.55–0.60 s sequential here,
 * 0.55–0.57 s with every module compiled by the optimising compiler (node --no-liftoff).
 */
export interface SharedWasmKernels extends SharedWasmHeap {
  readonly simd: WasmSimd;
  readonly module?: WebAssemblyModule;
}

/** A WASM backend together with the memory its kernels address. */
export interface WasmKernels extends Kernels {
  readonly heap: WasmHeap;
  /** The build in use (see `WasmKernelsOptions.simd`). */
  readonly simd: WasmSimd;
  /** The compiled module these kernels instantiate (shared with worker threads: `shareWasmKernels`). */
  readonly module: WebAssemblyModule;
}

// Row chunks of X copied per call by syrk and nearestCenter: big enough that the per-call packing
// overhead vanishes, small enough that a large dataset is never duplicated whole.
const DEFAULT_CHUNK_BYTES = 4 << 20;

function defaultWasmUrls(): URL[] {
  // <outDir>/src/core/kernels-wasm.js → <outDir>/wasm/, then the package's dist/wasm/ (for builds
  // into another outDir, as each engineer's dist-<name>/ in a shared checkout).
  return [new URL('../../wasm/kernels.wasm', import.meta.url), new URL('../../../dist/wasm/kernels.wasm', import.meta.url)];
}

function readModule(candidates: URL[]): { bytes: Uint8Array; url: URL } {
  const errors: string[] = [];
  for (const candidate of candidates) {
    try {
      return { bytes: readFileSync(candidate), url: candidate };
    } catch (error) {
      errors.push(`${candidate.pathname}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const name = candidates[0]?.pathname.split('/').pop() ?? 'kernels.wasm';
  throw new Error(`${name} not found (run \`npm run build\`); tried ${errors.join('; ')}`);
}

const relaxedName = (url: URL): URL => new URL(url.href.replace(/\.wasm$/, '-relaxed.wasm'));

function requestedSimd(option: WasmSimd | 'auto' | undefined): WasmSimd | 'auto' {
  const value = option ?? process.env['SHARDLEARN_WASM_SIMD'] ?? 'auto';
  if (value === 'auto' || value === 'plain' || value === 'relaxed' || value === '') return value === '' ? 'auto' : value;
  throw new ConfigError(`SHARDLEARN_WASM_SIMD must be auto, plain or relaxed; found '${value}'. Unset it to pick automatically.`, {
    field: 'SHARDLEARN_WASM_SIMD',
  });
}

/**
 * True when this V8 compiles the relaxed module. Node 20 (V8 11.3) has relaxed SIMD behind a flag;
 * V8 flags are per process, so once set here every later compile — in any worker thread — sees it.
 * It is only set when the module does not validate without it (newer V8 ships the feature).
 */
function acceptsRelaxed(bytes: Uint8Array): boolean {
  if (wasmApi.validate(bytes)) return true;
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  return wasmApi.validate(bytes);
}

/**
 * Compiled modules by file, so a thread that instantiates the module again (a threads worker's
 * kernels over the launcher's memory, once per job) does not compile it again: instances of one
 * module also share V8's optimised code.
 */
const compiled = new Map<string, object>();

/**
 * The choice `chooseModule` made, per request (build asked for, module files): a threads worker
 * attaches kernels once per job, and reading the file and validating the module each time cost
 * ~1 ms per job and worker (--cpu-prof, 2,000-row PCA fits on warm threads).
 */
const chosen = new Map<string, { module: object; simd: WasmSimd }>();

/** The compiled module of the requested build; `auto` falls back to plain when relaxed cannot load. */
function chooseModule(options: WasmKernelsOptions): { module: object; simd: WasmSimd } {
  const requested = requestedSimd(options.simd);
  const key = [requested, options.wasmUrl?.href ?? '', options.relaxedWasmUrl?.href ?? ''].join(' ');
  let choice = chosen.get(key);
  if (choice === undefined) {
    choice = chooseModuleUncached(options, requested);
    chosen.set(key, choice);
  }
  return choice;
}

function chooseModuleUncached(options: WasmKernelsOptions, requested: WasmSimd | 'auto'): { module: object; simd: WasmSimd } {
  const plainUrls = options.wasmUrl === undefined ? defaultWasmUrls() : [options.wasmUrl];
  const compile = (file: { bytes: Uint8Array; url: URL }): object => {
    let module = compiled.get(file.url.href);
    if (module === undefined) {
      module = new wasmApi.Module(file.bytes);
      compiled.set(file.url.href, module);
    }
    return module;
  };
  if (requested !== 'plain') {
    const relaxedUrls = options.relaxedWasmUrl !== undefined ? [options.relaxedWasmUrl] : plainUrls.map(relaxedName);
    try {
      const file = readModule(relaxedUrls);
      if (acceptsRelaxed(file.bytes)) return { module: compile(file), simd: 'relaxed' };
      throw new Error('this WebAssembly engine rejects relaxed SIMD even with --experimental-wasm-relaxed-simd');
    } catch (error) {
      if (requested === 'relaxed') throw error;
    }
  }
  return { module: compile(readModule(plainUrls)), simd: 'plain' };
}

/** Elements a row-major rows×cols block with leading dimension ld spans. */
function span(rows: number, cols: number, ld: number): number {
  return rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
}

/**
 * Instantiate the module and build the backend. Throws when the module is missing or WebAssembly
 * SIMD/threads are unavailable; `loadWasmKernels` is the non-throwing form.
 * @example
 * const wasm = createWasmKernels({ minMultiplyAdds: 0 }); // every gemm through WASM
 * wasm.gemm(false, false, 2, 2, 2, 1, a, 0, 2, b, 0, 2, 0, c, 0, 2);
 */
export function createWasmKernels(options: WasmKernelsOptions = {}): WasmKernels {
  const { module, simd } =
    options.module !== undefined && options.simd !== undefined && options.simd !== 'auto'
      ? { module: options.module, simd: options.simd }
      : chooseModule(options);
  const heap = options.shared === undefined ? new WasmHeap(1, options.maximumPages ?? 65536) : WasmHeap.attach(options.shared);
  const instance = new wasmApi.Instance(module, { env: { memory: heap.memory } });
  const w = instance.exports as unknown as KernelExports;
  // Measured crossover (CPU time per call, copies included): WASM gemm wins from 8³ = 512
  // multiply-adds (1.1–1.5×; 12³: 2.4×), syrk and nearestCenter from ~1024–2048 (0.7–1.3× at 1024).
  const minMultiplyAdds = options.minMultiplyAdds ?? 2048;
  // A JS→WASM call plus the residency checks costs ~70 ns: dot and axpy break even near n = 64
  // and win 1.6–2.5× at n = 256 (float64, CPU time per call).
  const minVectorLength = options.minVectorLength ?? 128;
  // Gathers read scattered rows, so memory latency, not the call, dominates from a few rows on: CPU
  // time per gatherDot + gatherAxpy over 1,000,000 × d float64 rows (load ≈ 13): 32 rows × 50, WASM
  // 9–12 µs vs TS 22–24 (the even share of a 64-row batch on 2 threads, which the gemm threshold of
  // 2,048 sent to TS); 4 × 50: 2.8–4.0 vs 3.3–4.2; 8 × 10: 1.9–2.1 vs 1.6–1.7; 64 × 4: 3.6–4.1 vs 6.3–6.6.
  const minGatherMultiplyAdds = options.minGatherMultiplyAdds ?? Math.min(256, minMultiplyAdds);
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const work64 = w.gemm64WorkBytes();
  const work32 = w.gemm32WorkBytes();
  const ts = tsKernels;

  const address = (array: ArrayBufferView & { BYTES_PER_ELEMENT: number }, offset: number): number =>
    array.byteOffset + offset * array.BYTES_PER_ELEMENT;
  /** Scratch bytes needed to copy `length` elements of `array` in (0 when it is already resident). */
  const copyBytes = (array: FloatArray, length: number): number => (heap.contains(array) ? 0 : length * array.BYTES_PER_ELEMENT + 16);
  /**
   * Address of array[offset..offset+length) in WASM memory, copying it into scratch (same dtype) if
   * needed; `copy` false only reserves the space (an output the kernel overwrites entirely).
   */
  const input = (array: FloatArray, offset: number, length: number, copy = true): number => {
    if (heap.contains(array)) return address(array, offset);
    const at = heap.take(length * array.BYTES_PER_ELEMENT);
    if (!copy) return at;
    if (array instanceof Float32Array) heap.f32.set(array.subarray(offset, offset + length), at / 4);
    else heap.f64.set(array.subarray(offset, offset + length), at / 8);
    return at;
  };
  /** Like `input` but as float64 (converted on copy); the caller copies back with `output64`. */
  const resident64 = (array: FloatArray): boolean => array instanceof Float64Array && heap.contains(array);
  const input64 = (array: FloatArray, offset: number, length: number, copy = true): number => {
    if (resident64(array)) return address(array, offset);
    const at = heap.take(length * 8);
    if (copy) heap.f64.set(array.subarray(offset, offset + length), at / 8);
    return at;
  };
  const output64 = (array: FloatArray, offset: number, length: number, at: number): void => {
    if (!resident64(array)) array.set(heap.f64.subarray(at / 8, at / 8 + length), offset);
  };
  const flag = (array: FloatArray): number => (array instanceof Float32Array ? 1 : 0);
  const copyBytes32 = (array: Uint32Array, length: number): number => (heap.contains(array) ? 0 : length * 4 + 16);
  /** Address of row indices rows[0..count), copied into scratch unless they live in WASM memory. */
  const inputRows = (rows: Uint32Array, count: number): number => {
    if (heap.contains(rows)) return rows.byteOffset;
    const at = heap.take(count * 4);
    heap.i32.set(new Int32Array(rows.buffer, rows.byteOffset, count), at / 4);
    return at;
  };

  const dot: Kernels['dot'] = (n, x, xOffset, y, yOffset) => {
    if (n < minVectorLength || !heap.contains(x) || !heap.contains(y)) return ts.dot(n, x, xOffset, y, yOffset);
    return w.dot(n, address(x, xOffset), flag(x), address(y, yOffset), flag(y));
  };

  const axpy: Kernels['axpy'] = (n, alpha, x, xOffset, y, yOffset) => {
    if (n < minVectorLength || flag(x) !== flag(y) || !heap.contains(x) || !heap.contains(y)) {
      ts.axpy(n, alpha, x, xOffset, y, yOffset);
      return;
    }
    w.axpy(n, alpha, address(x, xOffset), address(y, yOffset), flag(x));
  };

  const scal: Kernels['scal'] = (n, alpha, x, xOffset) => {
    if (n < minVectorLength || !heap.contains(x)) ts.scal(n, alpha, x, xOffset);
    else w.scal(n, alpha, address(x, xOffset), flag(x));
  };

  const gemv: Kernels['gemv'] = (transA, m, n, alpha, a, aOffset, lda, x, xOffset, beta, y, yOffset) => {
    if (m * n < minMultiplyAdds || !heap.contains(a)) {
      ts.gemv(transA, m, n, alpha, a, aOffset, lda, x, xOffset, beta, y, yOffset);
      return;
    }
    const xLength = transA ? m : n;
    const yLength = transA ? n : m;
    heap.beginScratch((resident64(x) ? 0 : xLength * 8 + 16) + (resident64(y) ? 0 : yLength * 8 + 16));
    const xAt = input64(x, xOffset, xLength);
    const yAt = input64(y, yOffset, yLength);
    w.gemv(transA ? 1 : 0, m, n, alpha, address(a, aOffset), lda, flag(a), xAt, beta, yAt);
    output64(y, yOffset, yLength, yAt);
  };

  const gemm: Kernels['gemm'] = (transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc) => {
    if (m * n * k < minMultiplyAdds) {
      ts.gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
      return;
    }
    const aLength = span(transA ? k : m, transA ? m : k, lda);
    const bLength = span(transB ? n : k, transB ? k : n, ldb);
    const cLength = span(m, n, ldc);
    const tA = transA ? 1 : 0;
    const tB = transB ? 1 : 0;
    // beta = 0 on a contiguous C: the kernel zero-fills C first, so its old values need no copy-in
    // (one of four O(n²) copies; about 1 % of a 1024³ float32 product).
    const copyC = beta !== 0 || ldc !== n;
    if (a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array) {
      heap.beginScratch(work32 + copyBytes(a, aLength) + copyBytes(b, bLength) + copyBytes(c, cLength));
      const work = heap.take(work32);
      const aAt = input(a, aOffset, aLength);
      const bAt = input(b, bOffset, bLength);
      const cAt = input(c, cOffset, cLength, copyC);
      w.gemm32(tA, tB, m, n, k, alpha, aAt, lda, bAt, ldb, beta, cAt, ldc, work);
      if (!heap.contains(c)) c.set(heap.f32.subarray(cAt / 4, cAt / 4 + cLength), cOffset);
      return;
    }
    heap.beginScratch(work64 + copyBytes(a, aLength) + copyBytes(b, bLength) + (resident64(c) ? 0 : cLength * 8 + 16));
    const work = heap.take(work64);
    const aAt = input(a, aOffset, aLength);
    const bAt = input(b, bOffset, bLength);
    const cAt = input64(c, cOffset, cLength, copyC);
    w.gemm64(tA, tB, m, n, k, alpha, aAt, lda, flag(a), bAt, ldb, flag(b), beta, cAt, ldc, work, 0);
    output64(c, cOffset, cLength, cAt);
  };

  const syrk: Kernels['syrk'] = (m, n, a, aOffset, lda, c, cOffset) => {
    if (m * n * n < minMultiplyAdds || n === 0) {
      ts.syrk(m, n, a, aOffset, lda, c, cOffset);
      return;
    }
    const resident = heap.contains(a);
    // Whole multiples of the kernel's KC = 256 rows: the sums then group exactly as in one call, so
    // the result is bitwise the same whether X is copied in chunks or read in place.
    const chunkRows = resident ? m : Math.min(m, 256 * Math.max(1, Math.floor(chunkBytes / (lda * a.BYTES_PER_ELEMENT * 256))));
    const chunkLength = span(chunkRows, n, lda);
    heap.beginScratch(work64 + (resident ? 0 : chunkLength * a.BYTES_PER_ELEMENT + 16) + (resident64(c) ? 0 : n * n * 8 + 16));
    const work = heap.take(work64);
    const cAt = input64(c, cOffset, n * n);
    const chunkAt = resident ? 0 : heap.take(chunkLength * a.BYTES_PER_ELEMENT);
    for (let row = 0; row < m; row += chunkRows) {
      const rows = Math.min(chunkRows, m - row);
      const from = aOffset + row * lda;
      let aAt = address(a, from);
      if (!resident) {
        aAt = chunkAt;
        const view = a instanceof Float32Array ? heap.f32 : heap.f64;
        view.set(a.subarray(from, from + span(rows, n, lda)), chunkAt / a.BYTES_PER_ELEMENT);
      }
      w.syrk(rows, n, aAt, lda, flag(a), cAt, work);
    }
    output64(c, cOffset, n * n, cAt);
  };

  // Like gemv: as much work as bytes, so WASM only when the rows and the output already live there.
  const subtractRow: Kernels['subtractRow'] = (rows, d, x, xOffset, v, out, outOffset) => {
    if (rows * d < minVectorLength || !heap.contains(x) || !heap.contains(out)) {
      ts.subtractRow(rows, d, x, xOffset, v, out, outOffset);
      return;
    }
    heap.beginScratch(resident64(v) ? 0 : d * 8 + 16);
    w.subtractRow(rows, d, address(x, xOffset), flag(x), input64(v, 0, d), address(out, outOffset));
  };

  // O(n³) work on O(n²) data: always worth the copies. The JS reference takes 7 ms at n = 100 once
  // V8 has optimised it, 50–100 ms on a fresh worker thread's first calls; this has no warm-up.
  const symmetricEigen: Kernels['symmetricEigen'] = (n, a, values, vectors) => {
    if (n === 0) return;
    heap.beginScratch(
      copyBytes(a, n * n) + (resident64(values) ? 0 : n * 8 + 16) + (resident64(vectors) ? 0 : n * n * 8 + 16) + n * 8 + 16,
    );
    const aAt = input(a, 0, n * n);
    const valuesAt = input64(values, 0, n, false);
    const vectorsAt = input64(vectors, 0, n * n, false);
    const work = heap.take(n * 8);
    w.symmetricEigen64(n, aAt, valuesAt, vectorsAt, work);
    output64(values, 0, n, valuesAt);
    output64(vectors, 0, n * n, vectorsAt);
  };

  const nearestCenter: Kernels['nearestCenter'] = (m, d, x, xOffset, k, centers, centerNorms, labels, distances) => {
    if (m * d * k < minMultiplyAdds || d === 0 || k === 0) {
      ts.nearestCenter(m, d, x, xOffset, k, centers, centerNorms, labels, distances);
      return;
    }
    const xResident = heap.contains(x);
    const labelsResident = heap.contains(labels);
    const distancesResident = heap.contains(distances);
    const chunkRows = xResident ? m : Math.max(1, Math.min(m, Math.floor(chunkBytes / (d * x.BYTES_PER_ELEMENT))));
    const workBytes = w.nearestCenterWorkBytes(d, k);
    heap.beginScratch(
      workBytes +
        copyBytes(centers, k * d) +
        copyBytes(centerNorms, k) +
        (xResident ? 0 : chunkRows * d * x.BYTES_PER_ELEMENT + 16) +
        (labelsResident ? 0 : chunkRows * 4 + 16) +
        (distancesResident ? 0 : chunkRows * 8 + 16),
    );
    const work = heap.take(workBytes);
    const centersAt = input(centers, 0, k * d);
    const normsAt = input(centerNorms, 0, k);
    const xChunkAt = xResident ? 0 : heap.take(chunkRows * d * x.BYTES_PER_ELEMENT);
    const labelsChunkAt = labelsResident ? 0 : heap.take(chunkRows * 4);
    const distancesChunkAt = distancesResident ? 0 : heap.take(chunkRows * 8);
    for (let row = 0; row < m; row += chunkRows) {
      const rows = Math.min(chunkRows, m - row);
      const from = xOffset + row * d;
      let xAt = address(x, from);
      if (!xResident) {
        xAt = xChunkAt;
        const view = x instanceof Float32Array ? heap.f32 : heap.f64;
        view.set(x.subarray(from, from + rows * d), xChunkAt / x.BYTES_PER_ELEMENT);
      }
      const labelsAt = labelsResident ? address(labels, row) : labelsChunkAt;
      const distancesAt = distancesResident ? address(distances, row) : distancesChunkAt;
      w.nearestCenter(rows, d, xAt, flag(x), k, centersAt, normsAt, labelsAt, distancesAt, work);
      if (!labelsResident) labels.set(heap.i32.subarray(labelsAt / 4, labelsAt / 4 + rows), row);
      if (!distancesResident) distances.set(heap.f64.subarray(distancesAt / 8, distancesAt / 8 + rows), row);
    }
  };

  // Scattered rows cannot be copied in cheaply: these run in WASM only when X lives there (Kernels.resident).
  const gatherDot: Kernels['gatherDot'] = (count, rows, d, x, coefficients, wOffset, out) => {
    if (count * d < minGatherMultiplyAdds || !heap.contains(x)) {
      ts.gatherDot(count, rows, d, x, coefficients, wOffset, out);
      return;
    }
    heap.beginScratch(copyBytes32(rows, count) + (resident64(coefficients) ? 0 : d * 8 + 16) + (resident64(out) ? 0 : count * 8 + 16));
    const rowsAt = inputRows(rows, count);
    const wAt = input64(coefficients, wOffset, d);
    const outAt = input64(out, 0, count, false);
    w.gatherDot(count, rowsAt, d, address(x, 0), flag(x), wAt, outAt);
    output64(out, 0, count, outAt);
  };

  const gatherAxpy: Kernels['gatherAxpy'] = (count, rows, d, x, weights, y, yOffset) => {
    if (count * d < minGatherMultiplyAdds || !heap.contains(x)) {
      ts.gatherAxpy(count, rows, d, x, weights, y, yOffset);
      return;
    }
    heap.beginScratch(copyBytes32(rows, count) + (resident64(weights) ? 0 : count * 8 + 16) + (resident64(y) ? 0 : d * 8 + 16));
    const rowsAt = inputRows(rows, count);
    const weightsAt = input64(weights, 0, count);
    const yAt = input64(y, yOffset, d);
    w.gatherAxpy(count, rowsAt, d, address(x, 0), flag(x), weightsAt, yAt);
    output64(y, yOffset, d, yAt);
  };

  const lloydStep: Kernels['lloydStep'] = (
    m,
    d,
    x,
    xOffset,
    k,
    centers,
    centerNorms,
    labels,
    distances,
    stats,
    rowNorms,
    bounds = null,
  ) => {
    if (m * d * k < minMultiplyAdds || d === 0 || k === 0) {
      ts.lloydStep(m, d, x, xOffset, k, centers, centerNorms, labels, distances, stats, rowNorms, bounds);
      return;
    }
    if (bounds !== null && rowNorms === null) throw new RangeError('lloydStep: bounds need rowNorms');
    const xResident = heap.contains(x);
    const labelsResident = heap.contains(labels);
    const distancesResident = heap.contains(distances);
    const normsResident = rowNorms === null || heap.contains(rowNorms);
    const lower = bounds?.lower ?? null;
    const lowerResident = lower === null || heap.contains(lower);
    const statsLength = k * d + k + 2;
    const chunkRows = xResident ? m : Math.max(1, Math.min(m, Math.floor(chunkBytes / (d * x.BYTES_PER_ELEMENT))));
    const workBytes = w.lloydStepWorkBytes(d, k);
    heap.beginScratch(
      workBytes +
        copyBytes(centers, k * d) +
        copyBytes(centerNorms, k) +
        copyBytes(stats, statsLength) +
        (xResident ? 0 : chunkRows * d * x.BYTES_PER_ELEMENT + 16) +
        (labelsResident ? 0 : chunkRows * 4 + 16) +
        (distancesResident ? 0 : chunkRows * 8 + 16) +
        (normsResident ? 0 : chunkRows * 8 + 16) +
        (bounds === null
          ? 0
          : (lowerResident ? 0 : chunkRows * 8 + 16) + copyBytes(bounds.shifts, k) + copyBytes(bounds.halfSeparation, k)),
    );
    const work = heap.take(workBytes);
    const centersAt = input(centers, 0, k * d);
    const normsAt = input(centerNorms, 0, k);
    const statsAt = input64(stats, 0, statsLength);
    const shiftsAt = bounds === null ? 0 : input(bounds.shifts, 0, k);
    const halfSeparationAt = bounds === null ? 0 : input(bounds.halfSeparation, 0, k);
    const lowerChunkAt = lowerResident ? 0 : heap.take(chunkRows * 8);
    const rowNormsChunkAt = normsResident ? 0 : heap.take(chunkRows * 8);
    const xChunkAt = xResident ? 0 : heap.take(chunkRows * d * x.BYTES_PER_ELEMENT);
    const labelsChunkAt = labelsResident ? 0 : heap.take(chunkRows * 4);
    const distancesChunkAt = distancesResident ? 0 : heap.take(chunkRows * 8);
    for (let row = 0; row < m; row += chunkRows) {
      const rows = Math.min(chunkRows, m - row);
      const from = xOffset + row * d;
      let xAt = address(x, from);
      if (!xResident) {
        xAt = xChunkAt;
        const view = x instanceof Float32Array ? heap.f32 : heap.f64;
        view.set(x.subarray(from, from + rows * d), xChunkAt / x.BYTES_PER_ELEMENT);
      }
      const labelsAt = labelsResident ? address(labels, row) : labelsChunkAt;
      if (!labelsResident) heap.i32.set(labels.subarray(row, row + rows), labelsAt / 4); // the previous labels are an input
      const distancesAt = distancesResident ? address(distances, row) : distancesChunkAt;
      let rowNormsAt = 0;
      if (rowNorms !== null) {
        rowNormsAt = normsResident ? address(rowNorms, row) : rowNormsChunkAt;
        if (!normsResident) heap.f64.set(rowNorms.subarray(row, row + rows), rowNormsAt / 8);
      }
      let lowerAt = 0;
      if (lower !== null) {
        lowerAt = lowerResident ? address(lower, row) : lowerChunkAt;
        if (!lowerResident) heap.f64.set(lower.subarray(row, row + rows), lowerAt / 8);
      }
      w.lloydStep(
        rows,
        d,
        xAt,
        flag(x),
        k,
        centersAt,
        normsAt,
        labelsAt,
        distancesAt,
        statsAt,
        rowNormsAt,
        lowerAt,
        shiftsAt,
        halfSeparationAt,
        work,
      );
      if (lower !== null && !lowerResident) lower.set(heap.f64.subarray(lowerAt / 8, lowerAt / 8 + rows), row);
      if (rowNorms !== null && !normsResident) rowNorms.set(heap.f64.subarray(rowNormsAt / 8, rowNormsAt / 8 + rows), row);
      if (!labelsResident) labels.set(heap.i32.subarray(labelsAt / 4, labelsAt / 4 + rows), row);
      if (!distancesResident) distances.set(heap.f64.subarray(distancesAt / 8, distancesAt / 8 + rows), row);
    }
    output64(stats, 0, statsLength, statsAt);
  };

  const resident = <T extends ResidentArray>(array: T): { readonly array: T; release(): void } => {
    if (heap.contains(array) || array.length === 0) return { array, release: () => undefined };
    const Type = array.constructor as new (buffer: SharedArrayBuffer, byteOffset: number, length: number) => T;
    const block = heapBlock(heap, array.byteLength, (buffer, at) => new Type(buffer, at, array.length));
    if (block === null) return { array, release: () => undefined }; // memory full (4 GiB): the kernels copy per call instead
    block.array.set(array as never);
    return block;
  };

  const zeros: Kernels['zeros'] = (type, length) => {
    const bytes = length * RESIDENT_ARRAYS[type].BYTES_PER_ELEMENT;
    const block = length > 0 ? heapBlock(heap, bytes, (buffer, at) => residentView(type, buffer, at, length)) : null;
    if (block === null) return { array: newResidentArray(type, length), release: () => undefined }; // memory full: a plain array
    block.array.fill(0); // a reused block holds an earlier fit's values
    return block;
  };

  return {
    name: 'wasm',
    simd,
    module,
    heap,
    dot,
    axpy,
    scal,
    gemv,
    gemm,
    syrk,
    subtractRow,
    symmetricEigen,
    nearestCenter,
    gatherDot,
    gatherAxpy,
    lloydStep,
    resident,
    zeros,
    ...createWasmLayerKernels(instance.exports, heap, gemm, options.winograd === undefined ? {} : { winograd: options.winograd }),
  };
}

let loaded: WasmKernels | null = null;

/**
 * The thread's WASM backend, or null — with one process warning saying why — when it cannot load
 * (module not built, no WebAssembly SIMD). Callers then keep the TS reference.
 * @example
 * const wasm = loadWasmKernels();
 * if (wasm !== null) registerKernels(wasm);
 */
export function loadWasmKernels(options: WasmKernelsOptions = {}): WasmKernels | null {
  try {
    loaded = createWasmKernels(options);
    return loaded;
  } catch (error) {
    // Someone who asked for the reference does not need to hear that the fast path is missing.
    if (process.env['SHARDLEARN_KERNELS'] !== 'ts') {
      const reason = error instanceof Error ? error.message : String(error);
      process.emitWarning(`WebAssembly kernels unavailable, using the TypeScript kernels: ${reason}`, { code: 'SHARDLEARN_NO_WASM' });
    }
    return null;
  }
}

/**
 * A zeroed array of `length` elements in the active backend's WASM memory, where its kernels read
 * it in place (`resident()` returns it without a copy); a plain array when the backend is not WASM
 * or its memory is full. `release()` gives the block back (the array must not be used after). For
 * data read from a file straight into kernel memory: a processes rank's shard (runtime/shard-file.ts).
 * @example
 * const x = kernelMemoryArray('float64', rows * cols);
 * try { readSync(fd, new Uint8Array(x.array.buffer, x.array.byteOffset, x.array.byteLength)); ... } finally { x.release(); }
 */
export function kernelMemoryArray(
  dtype: 'float32' | 'float64',
  length: number,
): { readonly array: Float32Array | Float64Array; release(): void } {
  // The active backend's `zeros`: WASM memory, or a plain array (reference backend, or memory full).
  return dtype === 'float32' ? kernels().zeros('float32', length) : kernels().zeros('float64', length);
}

/**
 * A zeroed array of `length` elements in the active backend's WASM memory, for the threads that
 * share that memory (a threads job's per-row state, which any rank's kernels read and write in
 * place: `kernelMemoryView` there): null when the backend is not WASM or its memory is full. It has
 * no `release()`: whoever knows that no thread uses it any more gives it back with
 * `releaseKernelMemory` (the threads launcher, once the job's workers are done or gone).
 * @example
 * const labels = kernelMemoryZeros('int32', rows); // then post labels.byteOffset to the other threads
 */
export function kernelMemoryZeros<K extends keyof ResidentTypes>(type: K, length: number): ResidentTypes[K] | null {
  const heap = activeHeap();
  if (heap === null || length === 0) return null;
  // The backend's `zeros`, never released through it; its plain-array fallback (memory full) is no use here.
  const { array } = kernels().zeros(type, length);
  return heap.contains(array) ? array : null;
}

/**
 * `length` elements of `type` at `byteOffset` of the active backend's WASM memory: a block another
 * thread attached to the same memory placed there (`kernelMemoryZeros`); null when the backend is
 * not WASM or the block lies past the memory's end.
 * @example
 * const labels = kernelMemoryView('int32', offsetFromRankZero, rows);
 */
export function kernelMemoryView<K extends keyof ResidentTypes>(type: K, byteOffset: number, length: number): ResidentTypes[K] | null {
  const heap = activeHeap();
  if (heap === null) return null;
  const buffer = heap.buffer();
  if (byteOffset < 0 || byteOffset + length * RESIDENT_ARRAYS[type].BYTES_PER_ELEMENT > buffer.byteLength) return null;
  return residentView(type, buffer, byteOffset, length);
}

/**
 * Give back a block of `kernelMemoryZeros(type, length)` (`byteLength` = length × element size),
 * allocated by any thread attached to `shared`'s memory, through the active backend when that is
 * the same memory (else the block stays taken: never freed into another memory's free list).
 * @example
 * releaseKernelMemory(jobKernels, block.byteOffset, block.byteLength); // once no thread reads it
 */
export function releaseKernelMemory(shared: SharedWasmHeap, byteOffset: number, byteLength: number): boolean {
  const heap = activeHeap();
  if (heap === null || !heap.sameMemory(shared)) return false;
  heap.release(byteOffset, byteLength);
  return true;
}

/** The active backend's heap, when that backend is WASM. */
function activeHeap(): WasmHeap | null {
  const heap = (kernels() as Partial<WasmKernels>).heap;
  return heap instanceof WasmHeap ? heap : null;
}

/** A typed array of `type` over `buffer`. */
function residentView<K extends keyof ResidentTypes>(type: K, buffer: SharedArrayBuffer, at: number, length: number): ResidentTypes[K] {
  const Type = RESIDENT_ARRAYS[type] as unknown as new (buffer: SharedArrayBuffer, at: number, length: number) => ResidentTypes[K];
  return new Type(buffer, at, length);
}

/**
 * `bytes` of `heap` viewed by `view`, with a `release()` that gives them back once (later calls do
 * nothing); null when the memory is full (4 GiB). The one allocation path of `resident` and
 * `zeros`.
 */
function heapBlock<T>(
  heap: WasmHeap,
  bytes: number,
  view: (buffer: SharedArrayBuffer, at: number) => T,
): { readonly array: T; release(): void } | null {
  let at: number;
  try {
    at = heap.allocate(bytes);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return null;
  }
  let released = false;
  return {
    array: view(heap.buffer(), at),
    release: () => {
      if (released) return;
      released = true;
      heap.release(at, bytes);
    },
  };
}

/**
 * Make `allocate(..., 'shared')` (storage.ts) carve arrays out of this thread's WASM memory, so the
 * WASM kernels read datasets and parameters allocated afterwards without a copy. They stay
 * SharedArrayBuffer-backed, so they can still be posted to worker threads (which then read them
 * through their own instance, with a copy). Blocks are never freed: use it for long-lived data.
 * Returns false when the WASM backend is not loaded.
 * @example
 * placeSharedArraysInWasmMemory();
 * const x = allocate('float64', rows * cols, 'shared'); // kernels().syrk on x copies nothing
 */
export function placeSharedArraysInWasmMemory(): boolean {
  const backend = loaded;
  if (backend === null) return false;
  setSharedAllocator((byteLength) => {
    try {
      const byteOffset = backend.heap.allocate(byteLength);
      return { buffer: backend.heap.buffer(), byteOffset };
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      // WASM memory full (4 GiB): a plain shared buffer still works, the kernels then copy.
      return { buffer: new SharedArrayBuffer(byteLength), byteOffset: 0 };
    }
  });
  return true;
}

/**
 * The active backend's memory as a worker thread attaches to it (`attachWasmKernels`), when that
 * backend is WASM and `array` lies in its memory — data the CLI placed there
 * (`placeSharedArraysInWasmMemory`); else undefined, and the worker's kernels copy what they need.
 * The threads launcher posts it with each rank's job.
 * @example
 * const shared = shareWasmKernels(data.x); // post it beside data.x: they arrive together
 */
export function shareWasmKernels(array: ArrayBufferView): SharedWasmKernels | undefined {
  const backend = kernels() as Partial<WasmKernels>;
  if (!(backend.heap instanceof WasmHeap) || backend.simd === undefined || !backend.heap.contains(array)) return undefined;
  return { ...backend.heap.share(), simd: backend.simd, ...(backend.module === undefined ? {} : { module: backend.module }) };
}

/**
 * A WASM backend over another thread's memory (`shareWasmKernels` there, posted here together with
 * the arrays that live in it): the same build, its own instance and scratch block, allocating from
 * that memory beside its owner. Arrays posted with `shared` are resident: the kernels read them in
 * place, and `resident()` returns them without a copy. Give the scratch back with
 * `heap.releaseScratch()` when done. Attaching to the same memory again (default options) returns
 * the same kernels, now recognising the arrays posted with this `shared`.
 * @example
 * const attached = attachWasmKernels(job.kernels);
 * const previous = activateKernels(attached);
 * try { await train(); } finally { activateKernels(previous); attached.heap.releaseScratch(); }
 */
export function attachWasmKernels(shared: SharedWasmKernels, options: WasmKernelsOptions = {}): WasmKernels {
  const defaults = Object.keys(options).length === 0;
  const reuse = lastAttached;
  if (defaults && reuse !== null && reuse.simd === shared.simd && reuse.heap.sameMemory(shared)) {
    reuse.heap.adopt(shared);
    return reuse;
  }
  const attached = createWasmKernels({
    ...options,
    simd: shared.simd,
    shared,
    ...(shared.module === undefined ? {} : { module: shared.module }),
  });
  lastAttached = defaults ? attached : null;
  return attached;
}

/**
 * This thread's last attachment with default options, handed out again for the same memory: a
 * pooled threads worker attaches to the launcher's memory once per job, and new kernels each time
 * were new closures (gemv, syrk, their copy helpers) that TurboFan compiled again in every job, and
 * a new call target that deoptimised every caller compiled against the last job's (--trace-opt,
 * OLS 1M×50 threads×2: 50–100 ms of compiles per fit in fits 4–5). Its scratch block is given back
 * at each job's end (`heap.releaseScratch`) and taken again by the next.
 */
let lastAttached: WasmKernels | null = null;
