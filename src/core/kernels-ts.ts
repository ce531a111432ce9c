/**
 * The plain-TypeScript kernel backend: the reference every faster backend is tested against, and
 * the fallback. Written to be fast within JavaScript's limits: unrolled dot products, a packed and
 * cache-blocked gemm whose inner loop runs over contiguous memory, a 4-row-blocked Gram matrix,
 * and no allocation in inner loops (gemm's packing buffer is reused between calls).
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { Kernels, LloydBounds } from './kernels.js';
import { newResidentArray } from './kernels.js';
import type { FloatArray } from './storage.js';
import { tsLayerKernels } from './kernels-layers.js';
import { explicitConvolution } from './kernels-convolution.js';

function dot(n: number, x: FloatArray, xOffset: number, y: FloatArray, yOffset: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += x[xOffset + i]! * y[yOffset + i]!;
    s1 += x[xOffset + i + 1]! * y[yOffset + i + 1]!;
    s2 += x[xOffset + i + 2]! * y[yOffset + i + 2]!;
    s3 += x[xOffset + i + 3]! * y[yOffset + i + 3]!;
  }
  for (; i < n; i++) s0 += x[xOffset + i]! * y[yOffset + i]!;
  return s0 + s1 + (s2 + s3);
}

function axpy(n: number, alpha: number, x: FloatArray, xOffset: number, y: FloatArray, yOffset: number): void {
  if (alpha === 0) return;
  for (let i = 0; i < n; i++) y[yOffset + i]! += alpha * x[xOffset + i]!;
}

function scal(n: number, alpha: number, x: FloatArray, xOffset: number): void {
  for (let i = 0; i < n; i++) x[xOffset + i]! *= alpha;
}

function gemv(
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
): void {
  if (!transA) {
    for (let i = 0; i < m; i++) {
      const value = alpha * dot(n, a, aOffset + i * lda, x, xOffset);
      y[yOffset + i] = beta === 0 ? value : beta * y[yOffset + i]! + value;
    }
    return;
  }
  // y (n) = alpha Aᵀx + beta y: walk A by rows so memory access stays contiguous.
  if (beta === 0) y.fill(0, yOffset, yOffset + n);
  else if (beta !== 1) scal(n, beta, y, yOffset);
  for (let i = 0; i < m; i++) axpy(n, alpha * x[xOffset + i]!, a, aOffset + i * lda, y, yOffset);
}

// gemm blocking: a KC×NC panel of B (float64) stays in L2 while every row of A streams past it.
const KC = 256;
const NC = 512;
let packB = new Float64Array(KC * NC);

function gemm(
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
): void {
  for (let i = 0; i < m; i++) {
    const row = cOffset + i * ldc;
    if (beta === 0) c.fill(0, row, row + n);
    else if (beta !== 1) for (let j = 0; j < n; j++) c[row + j]! *= beta;
  }
  if (alpha === 0 || k === 0) return;
  if (packB.length < KC * NC) packB = new Float64Array(KC * NC);
  const panel = packB;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      // Pack op(B)[pc:pc+kc, jc:jc+nc] row-major into the panel, scaled by alpha.
      for (let p = 0; p < kc; p++) {
        const dst = p * nc;
        if (transB) for (let j = 0; j < nc; j++) panel[dst + j] = alpha * b[bOffset + (jc + j) * ldb + pc + p]!;
        else {
          const src = bOffset + (pc + p) * ldb + jc;
          for (let j = 0; j < nc; j++) panel[dst + j] = alpha * b[src + j]!;
        }
      }
      const aRow = transA ? 1 : lda; // step between rows of op(A)
      const aCol = transA ? lda : 1; // step between columns of op(A)
      let i = 0;
      // Four rows of C at a time: each panel element loaded once feeds four multiply-adds.
      for (; i + 3 < m; i += 4) {
        const c0 = cOffset + i * ldc + jc;
        const c1 = c0 + ldc;
        const c2 = c1 + ldc;
        const c3 = c2 + ldc;
        const a0 = aOffset + i * aRow + pc * aCol;
        for (let p = 0; p < kc; p++) {
          const off = a0 + p * aCol;
          const v0 = a[off]!;
          const v1 = a[off + aRow]!;
          const v2 = a[off + 2 * aRow]!;
          const v3 = a[off + 3 * aRow]!;
          const bp = p * nc;
          for (let j = 0; j < nc; j++) {
            const bv = panel[bp + j]!;
            c[c0 + j]! += v0 * bv;
            c[c1 + j]! += v1 * bv;
            c[c2 + j]! += v2 * bv;
            c[c3 + j]! += v3 * bv;
          }
        }
      }
      for (; i < m; i++) {
        const c0 = cOffset + i * ldc + jc;
        const a0 = aOffset + i * aRow + pc * aCol;
        for (let p = 0; p < kc; p++) {
          const v0 = a[a0 + p * aCol]!;
          if (v0 === 0) continue;
          const bp = p * nc;
          for (let j = 0; j < nc; j++) c[c0 + j]! += v0 * panel[bp + j]!;
        }
      }
    }
  }
}

function syrk(m: number, n: number, a: FloatArray, aOffset: number, lda: number, c: Float64Array, cOffset: number): void {
  // Upper triangle by blocks of 4 rows of A: C[i][j] += Σ_r a_r[i]·a_r[j]; then mirror.
  let r = 0;
  for (; r + 3 < m; r += 4) {
    const r0 = aOffset + r * lda;
    const r1 = r0 + lda;
    const r2 = r1 + lda;
    const r3 = r2 + lda;
    for (let i = 0; i < n; i++) {
      const x0 = a[r0 + i]!;
      const x1 = a[r1 + i]!;
      const x2 = a[r2 + i]!;
      const x3 = a[r3 + i]!;
      const ci = cOffset + i * n;
      for (let j = i; j < n; j++) c[ci + j]! += x0 * a[r0 + j]! + x1 * a[r1 + j]! + x2 * a[r2 + j]! + x3 * a[r3 + j]!;
    }
  }
  for (; r < m; r++) {
    const r0 = aOffset + r * lda;
    for (let i = 0; i < n; i++) {
      const x0 = a[r0 + i]!;
      const ci = cOffset + i * n;
      for (let j = i; j < n; j++) c[ci + j]! += x0 * a[r0 + j]!;
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) c[cOffset + i * n + j] = c[cOffset + j * n + i]!;
}

/**
 * The nearest of k centres to the row at `row` (its squared norm given): returns its index and
 * writes the squared distance, clamped at 0, to distances[at]. The search both k-means kernels share.
 */
function nearestOf(
  d: number,
  x: FloatArray,
  row: number,
  rowNorm: number,
  k: number,
  centers: Float64Array,
  centerNorms: Float64Array,
  distances: Float64Array,
  at: number,
  seconds: Float64Array | null = null,
): number {
  let best = Infinity;
  let next = Infinity;
  let bestIndex = 0;
  for (let j = 0; j < k; j++) {
    const dist = rowNorm - 2 * dot(d, x, row, centers, j * d) + centerNorms[j]!;
    if (dist < best) {
      next = best;
      best = dist;
      bestIndex = j;
    } else if (dist < next) next = dist;
  }
  distances[at] = best > 0 ? best : 0;
  if (seconds !== null) seconds[at] = next;
  return bestIndex;
}

function nearestCenter(
  m: number,
  d: number,
  x: FloatArray,
  xOffset: number,
  k: number,
  centers: Float64Array,
  centerNorms: Float64Array,
  labels: Int32Array,
  distances: Float64Array,
): void {
  for (let i = 0; i < m; i++) {
    const row = xOffset + i * d;
    labels[i] = nearestOf(d, x, row, dot(d, x, row, x, row), k, centers, centerNorms, distances, i);
  }
}

function gatherDot(count: number, rows: Uint32Array, d: number, x: FloatArray, w: Float64Array, wOffset: number, out: Float64Array): void {
  for (let i = 0; i < count; i++) out[i] = dot(d, x, rows[i]! * d, w, wOffset);
}

function gatherAxpy(
  count: number,
  rows: Uint32Array,
  d: number,
  x: FloatArray,
  weights: Float64Array,
  y: Float64Array,
  yOffset: number,
): void {
  for (let i = 0; i < count; i++) axpy(d, weights[i]!, x, rows[i]! * d, y, yOffset);
}

function lloydStep(
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
  bounds: LloydBounds | null = null,
): void {
  const countsAt = k * d;
  const prune = bounds === null ? null : hamerlyPrune(d, k, centerNorms, bounds);
  for (let i = 0; i < m; i++) {
    const row = xOffset + i * d;
    const previous = labels[i]!;
    let rowNorm = rowNorms === null ? NaN : rowNorms[i]!;
    if (Number.isNaN(rowNorm)) {
      rowNorm = dot(d, x, row, x, row);
      if (rowNorms !== null) rowNorms[i] = rowNorm;
    }
    let label: number;
    const own = prune === null || previous < 0 ? NaN : rowNorm - 2 * dot(d, x, row, centers, previous * d) + centerNorms[previous]!;
    if (prune !== null && previous >= 0 && prune(i, previous, rowNorm, own)) {
      label = previous;
      distances[i] = own > 0 ? own : 0;
    } else {
      label = nearestOf(d, x, row, rowNorm, k, centers, centerNorms, distances, i, prune === null ? null : bounds!.lower);
      // The next-nearest squared distance is now in lower[i]: a lower bound on the distance itself.
      if (prune !== null) bounds!.lower[i] = Math.sqrt(Math.max(bounds!.lower[i]! - prune.error(rowNorm), 0));
    }
    const distance = distances[i]!;
    labels[i] = label;
    const sumAt = label * d;
    for (let c = 0; c < d; c++) stats[sumAt + c]! += x[row + c]!;
    stats[countsAt + label]! += 1;
    stats[countsAt + k]! += distance;
    if (label !== previous) stats[countsAt + k + 1]! += 1;
  }
}

const UNIT_ROUNDOFF = 2 ** -53;

/**
 * Hamerly's test for lloydStep (the WASM kernel's boundedRows, the same rule): whether row i, at
 * squared distance e from its centre `label` as the full comparison computes it, keeps that label.
 * When it does, its lower bound is moved by the other centres' largest shift and its distance written.
 */
function hamerlyPrune(
  d: number,
  k: number,
  centerNorms: Float64Array,
  bounds: LloydBounds,
): ((i: number, label: number, rowNorm: number, e: number) => boolean) & { error(rowNorm: number): number } {
  const { lower, shifts, halfSeparation } = bounds;
  let largest = 0;
  let runnerUp = 0;
  let largestAt = -1;
  let maxNorm = 0;
  for (let j = 0; j < k; j++) {
    const shift = shifts[j]!;
    if (shift > largest) {
      runnerUp = largest;
      largest = shift;
      largestAt = j;
    } else if (shift > runnerUp) runnerUp = shift;
    maxNorm = Math.max(maxNorm, centerNorms[j]!);
  }
  const slack = (4 * d + 64) * UNIT_ROUNDOFF;
  const error = (rowNorm: number): number => slack * (rowNorm + maxNorm);
  const test = (i: number, label: number, rowNorm: number, e: number): boolean => {
    const others = (lower[i]! - (label === largestAt ? runnerUp : largest)) * (1 - 8 * UNIT_ROUNDOFF);
    const own = Math.sqrt(Math.max(e, 0) + error(rowNorm));
    const bound = Math.max(others, 2 * halfSeparation[label]! - own);
    if (!(bound > 0 && e < bound * bound - error(rowNorm))) return false;
    lower[i] = others;
    return true;
  };
  return Object.assign(test, { error });
}

function subtractRow(rows: number, d: number, x: FloatArray, xOffset: number, v: Float64Array, out: Float64Array, outOffset: number): void {
  for (let i = 0; i < rows; i++) {
    const source = xOffset + i * d;
    const target = outOffset + i * d;
    for (let c = 0; c < d; c++) out[target + c] = x[source + c]! - v[c]!;
  }
}

/** ml-matrix's symmetric EigenvalueDecomposition (tred2/tql2): the reference the WASM port matches bit for bit. */
function symmetricEigen(n: number, a: Float64Array, values: Float64Array, vectors: Float64Array): void {
  const matrix = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) matrix.set(i, j, a[i * n + j]!);
  const decomposition = new EigenvalueDecomposition(matrix, { assumeSymmetric: true });
  const d = decomposition.realEigenvalues;
  const byColumn = decomposition.eigenvectorMatrix;
  for (let i = 0; i < n; i++) {
    values[i] = d[i]!;
    for (let r = 0; r < n; r++) vectors[i * n + r] = byColumn.get(r, i);
  }
}

/** The reference backend. */
export const tsKernels: Kernels = {
  name: 'ts',
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
  resident: (array) => ({ array, release: () => undefined }),
  zeros: (type, length) => ({ array: newResidentArray(type, length), release: () => undefined }),
  ...tsLayerKernels,
  ...explicitConvolution({ gemm, ...tsLayerKernels }),
};
