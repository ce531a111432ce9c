/**
 * The kernel registry: one place that says which implementation of the hot numeric loops runs.
 * Backends register by name (`ts` is the plain-TypeScript reference; a faster one — WASM SIMD —
 * registers beside it); `SHARDLEARN_KERNELS=ts|<name>` or `useKernels(name)` selects one.
 * Callers always go through `kernels()`, never import a backend directly.
 *
 * Arguments are BLAS-style positional (array, offset, leading dimension) rather than an options
 * object: these functions sit in inner loops, and an options object per call would allocate.
 * All matrices are row-major. Accumulation is in float64 whatever the storage type.
 */
import { ShardlearnError } from './errors.js';
import type { FloatArray } from './storage.js';
import type { ConvolutionKernels } from './kernels-convolution.js';
import type { LayerKernels } from './kernels-layers.js';

/** Also the neural engine's layer and convolution kernels (kernels-layers.ts, kernels-convolution.ts). */
export interface Kernels extends LayerKernels, ConvolutionKernels {
  readonly name: string;
  /** Σ x[xOffset+i]·y[yOffset+i], i < n. */
  dot(n: number, x: FloatArray, xOffset: number, y: FloatArray, yOffset: number): number;
  /** y += alpha·x over n elements. */
  axpy(n: number, alpha: number, x: FloatArray, xOffset: number, y: FloatArray, yOffset: number): void;
  /** x *= alpha over n elements. */
  scal(n: number, alpha: number, x: FloatArray, xOffset: number): void;
  /** y = alpha·op(A)·x + beta·y, A is m×n (lda ≥ n); op(A) = Aᵀ when `transA`, then y has n entries. */
  gemv(
    transA: boolean,
    m: number,
    n: number,
    alpha: number,
    a: FloatArray,
    aOffset: number,
    lda: number,
    x: FloatArray,
    xOffset: number,
    beta: number,
    y: FloatArray,
    yOffset: number,
  ): void;
  /** C = alpha·op(A)·op(B) + beta·C; op(A) is m×k, op(B) is k×n, C is m×n. */
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: FloatArray,
    aOffset: number,
    lda: number,
    b: FloatArray,
    bOffset: number,
    ldb: number,
    beta: number,
    c: FloatArray,
    cOffset: number,
    ldc: number,
  ): void;
  /** C += AᵀA for A m×n (the Gram matrix XᵀX); C is n×n, fully written (both triangles). */
  syrk(m: number, n: number, a: FloatArray, aOffset: number, lda: number, c: Float64Array, cOffset: number): void;
  /**
   * out[outOffset + i·d + c] = x[xOffset + i·d + c] − v[c] for `rows` rows of d columns: rows
   * centred by a mean (one subtraction per element, so every backend gives the same values).
   */
  subtractRow(rows: number, d: number, x: FloatArray, xOffset: number, v: Float64Array, out: Float64Array, outOffset: number): void;
  /**
   * Eigendecomposition of the symmetric n×n matrix `a` (row-major, read only): `values` (n) in
   * ascending order and `vectors` (n×n) with row i the unit eigenvector of values[i]. Householder
   * tridiagonalisation and implicit QL (EISPACK tred2/tql2), as ml-matrix computes them: the
   * backends agree to the bit.
   */
  symmetricEigen(n: number, a: Float64Array, values: Float64Array, vectors: Float64Array): void;
  /**
   * For each of m rows of X (d columns), the nearest of k centres (row-major k×d) in squared
   * Euclidean distance: `labels[i]` and `distances[i]` (the squared distance, clamped at 0).
   * `centerNorms[j]` must hold ‖centre j‖².
   */
  nearestCenter(
    m: number,
    d: number,
    x: FloatArray,
    xOffset: number,
    k: number,
    centers: Float64Array,
    centerNorms: Float64Array,
    labels: Int32Array,
    distances: Float64Array,
  ): void;
  /** out[i] = x[rows[i]·d …]·w[wOffset …] over d columns, for the `count` listed rows of row-major X. */
  gatherDot(count: number, rows: Uint32Array, d: number, x: FloatArray, w: Float64Array, wOffset: number, out: Float64Array): void;
  /** y[yOffset + c] += Σᵢ weights[i]·x[rows[i]·d + c], c < d, rows added in the order listed. */
  gatherAxpy(count: number, rows: Uint32Array, d: number, x: FloatArray, weights: Float64Array, y: Float64Array, yOffset: number): void;
  /**
   * One Lloyd iteration's local work on m rows (k-means): the nearest centre of each row as
   * `nearestCenter` finds it, then, in row order, stats[label·d + c] += x[row, c], stats[k·d + label]
   * += 1, stats[k·d + k] += distance and stats[k·d + k + 1] += 1 per label that differs from the one
   * `labels` held on entry (−1: none). `labels` and `distances` receive the new labels and squared
   * distances. stats is [sums (k·d) | counts (k) | inertia | changed labels]. `rowNorms` (m
   * entries, or null) keeps ‖row i‖² from one iteration to the next: the kernel computes the
   * entries that are NaN and stores them (start with NaN everywhere), and reads the others.
   *
   * With `bounds` (Hamerly's algorithm; `rowNorms` then required) the results are the same, bit for
   * bit, but a row whose bounds prove its label is not compared with every centre: only its distance
   * to its own centre is computed, in the arithmetic the full comparison would use. The first call
   * must see every label −1 (each row compared with all centres, its lower bound set); later calls
   * pass how far each centre moved since the previous call and half the distance from each centre
   * to its nearest other one (k-means computes both, rounded outward: models/kmeans/hamerly.ts).
   */
  lloydStep(
    m: number,
    d: number,
    x: FloatArray,
    xOffset: number,
    k: number,
    centers: Float64Array,
    centerNorms: Float64Array,
    labels: Int32Array,
    distances: Float64Array,
    stats: Float64Array,
    rowNorms: Float64Array | null,
    bounds?: LloydBounds | null,
  ): void;
  /**
   * `array`'s values where this backend's kernels read them without a copy: WASM copies them once
   * into its memory (none when they already live there), the reference returns `array` itself.
   * For data an iterative fit reads every iteration; `release()` frees the copy when the fit ends.
   * @example
   * const x = kernels().resident(shard.x); // one copy, not one per iteration
   * try { ... kernels().lloydStep(rows, d, x.array, 0, ...) ... } finally { x.release(); }
   */
  resident<T extends ResidentArray>(array: T): { readonly array: T; release(): void };
  /**
   * A zeroed array of `length` elements where this backend's kernels read it in place: WASM carves
   * it out of its memory (pages the process touched in earlier fits), the reference allocates. For a
   * fit's per-row working arrays, which a `new` typed array pages in afresh every fit (~14 µs per
   * 4 KiB page on this VM: 28 MB for k-means' four arrays on 1M rows). `release()` gives it back at
   * once, where the layers' `workspace` waits for the garbage collector (whose later fits would take
   * new blocks meanwhile).
   * @example
   * const labels = kernels().zeros('int32', rows);
   * try { ... } finally { labels.release(); }
   */
  zeros<K extends keyof ResidentTypes>(type: K, length: number): { readonly array: ResidentTypes[K]; release(): void };
}

/** The element types `Kernels.zeros` allocates. */
export interface ResidentTypes {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
}

/** The constructor of each `ResidentTypes` element type. */
export const RESIDENT_ARRAYS = { float32: Float32Array, float64: Float64Array, int32: Int32Array } as const;

/** A new zeroed array of one of the `ResidentTypes` (the reference backend's `zeros`, and WASM's when its memory is full). */
export function newResidentArray<K extends keyof ResidentTypes>(type: K, length: number): ResidentTypes[K] {
  return new RESIDENT_ARRAYS[type](length) as ResidentTypes[K];
}

/**
 * Hamerly's bounds for `Kernels.lloydStep`: `lower[i]` (m entries, kept between calls) bounds from
 * below row i's distance to every centre but its own; `shifts[j]` is how far centre j moved since
 * the previous call (0 on the first), `halfSeparation[j]` half the distance from centre j to its
 * nearest other centre (k entries each).
 */
export interface LloydBounds {
  lower: Float64Array;
  shifts: Float64Array;
  halfSeparation: Float64Array;
}

/** What `Kernels.resident` can place: data, labels. */
export type ResidentArray = Float32Array | Float64Array | Int32Array;

const backends = new Map<string, Kernels>();
let active: Kernels | null = null;

/** Register a backend. Registering a name twice is a bug and throws. */
export function registerKernels(backend: Kernels): void {
  if (backends.has(backend.name)) throw new ShardlearnError('REGISTRY', `kernel backend '${backend.name}' is already registered`);
  backends.set(backend.name, backend);
}

export function kernelBackends(): string[] {
  return [...backends.keys()];
}

/** Select a backend by name for this thread. */
export function useKernels(name: string): Kernels {
  const backend = backends.get(name);
  if (backend === undefined) {
    throw new ShardlearnError('REGISTRY', `unknown kernel backend '${name}'; registered: ${kernelBackends().join(', ')}`);
  }
  active = backend;
  return backend;
}

/**
 * Make `backend` this thread's active backend until the next call, and return the one it replaces
 * (to restore). Unlike `useKernels` it need not be registered: a threads worker runs a job on WASM
 * kernels over the launcher's memory (kernels-wasm.ts `attachWasmKernels`), then restores its own.
 */
export function activateKernels(backend: Kernels): Kernels {
  const previous = kernels();
  active = backend;
  return previous;
}

/** The active backend: `SHARDLEARN_KERNELS` if set, else the first registered (`wasm` when it loaded, else `ts`; see core/index.ts). */
export function kernels(): Kernels {
  if (active !== null) return active;
  const requested = process.env['SHARDLEARN_KERNELS'];
  if (requested !== undefined && requested !== '') return useKernels(requested);
  const first = backends.values().next();
  if (first.done === true) throw new ShardlearnError('REGISTRY', 'no kernel backend registered; import core/index.js');
  active = first.value;
  return active;
}
