/**
 * Per-feature scores for univariate selection (scikit-learn's `f_classif`, `f_regression`, `chi2`,
 * `mutual_info_classif`) and the Lasso (coordinate descent) behind L1-based selection. Pure
 * functions on a row-major matrix; each is checked against scikit-learn's own values (fixtures by
 * scripts/fixtures/automl.py).
 *
 * A score that cannot be computed (a constant column's F statistic is 0/0) is NaN here; selection
 * ranks NaN below every number, as scikit-learn does.
 */
import { DataError } from '../core/errors.js';
import type { FloatArray } from '../core/storage.js';

export interface Matrix {
  x: FloatArray;
  rows: number;
  cols: number;
}

function classCodes(y: ArrayLike<number>): { codes: Uint32Array; classes: number } {
  const sorted = [...new Set(Array.from(y))].sort((a, b) => a - b);
  const index = new Map(sorted.map((value, i) => [value, i]));
  return { codes: Uint32Array.from(Array.from(y), (value) => index.get(value)!), classes: sorted.length };
}

/** One-way ANOVA F statistic of each feature against the classes (scikit-learn's f_classif). */
export function fClassif({ x, rows, cols }: Matrix, y: ArrayLike<number>): Float64Array {
  const { codes, classes } = classCodes(y);
  const counts = new Float64Array(classes);
  for (let i = 0; i < rows; i++) counts[codes[i]!]!++;
  const scores = new Float64Array(cols);
  const classSums = new Float64Array(classes);
  for (let j = 0; j < cols; j++) {
    classSums.fill(0);
    let sumSquares = 0;
    let sum = 0;
    for (let i = 0; i < rows; i++) {
      const v = x[i * cols + j]!;
      classSums[codes[i]!]! += v;
      sumSquares += v * v;
      sum += v;
    }
    const total = sumSquares - (sum * sum) / rows;
    let between = -(sum * sum) / rows;
    for (let c = 0; c < classes; c++) between += (classSums[c]! * classSums[c]!) / counts[c]!;
    const within = total - between;
    scores[j] = between / (classes - 1) / (within / (rows - classes));
  }
  return scores;
}

/** F statistic of each feature's correlation with a continuous target (scikit-learn's f_regression). */
export function fRegression({ x, rows, cols }: Matrix, y: ArrayLike<number>): Float64Array {
  let yMean = 0;
  for (let i = 0; i < rows; i++) yMean += y[i]!;
  yMean /= rows;
  let yNorm = 0;
  for (let i = 0; i < rows; i++) yNorm += (y[i]! - yMean) ** 2;
  const scores = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    let mean = 0;
    for (let i = 0; i < rows; i++) mean += x[i * cols + j]!;
    mean /= rows;
    let dot = 0;
    let norm = 0;
    for (let i = 0; i < rows; i++) {
      const d = x[i * cols + j]! - mean;
      dot += d * (y[i]! - yMean);
      norm += d * d;
    }
    const r = dot / Math.sqrt(norm * yNorm);
    scores[j] = ((r * r) / (1 - r * r)) * (rows - 2);
  }
  return scores;
}

/** χ² statistic of each non-negative feature (counts, frequencies) against the classes (scikit-learn's chi2). */
export function chi2({ x, rows, cols }: Matrix, y: ArrayLike<number>): Float64Array {
  const { codes, classes } = classCodes(y);
  const observed = new Float64Array(classes * cols);
  const featureTotals = new Float64Array(cols);
  const classCounts = new Float64Array(classes);
  for (let i = 0; i < rows; i++) {
    const c = codes[i]!;
    classCounts[c]!++;
    for (let j = 0; j < cols; j++) {
      const v = x[i * cols + j]!;
      if (v < 0)
        throw new DataError(
          'DATA_VALUE',
          { row: i + 1, column: j },
          `χ² selection needs non-negative features (counts or frequencies), found ${v}; use the F-test or mutual information, or min-max scale first`,
        );
      observed[c * cols + j]! += v;
      featureTotals[j]! += v;
    }
  }
  const scores = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const expected = (classCounts[c]! / rows) * featureTotals[j]!;
      sum += (observed[c * cols + j]! - expected) ** 2 / expected;
    }
    scores[j] = sum;
  }
  return scores;
}

/** ψ(x), the digamma function, for x > 0: recurrence up to 10, then the asymptotic series (error below 1e-14). */
export function digamma(value: number): number {
  let x = value;
  let result = 0;
  while (x < 10) {
    result -= 1 / x;
    x += 1;
  }
  const f = 1 / (x * x);
  return result + Math.log(x) - 0.5 / x - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))));
}

/**
 * Mutual information (nats) between each continuous feature and the classes, by the k-nearest-
 * neighbour estimator of Ross (PLoS ONE, 2014), as scikit-learn's mutual_info_classif with
 * `n_neighbors = 3`: for each row, r = distance to its k-th neighbour of the same class, m = rows
 * of any class strictly closer than r; MI = ψ(n) + ⟨ψ(k)⟩ − ⟨ψ(n_class)⟩ − ⟨ψ(m)⟩, clipped at 0.
 * Rows of a class with one row are left out. (scikit-learn adds 1e-10-scale noise to break ties;
 * with no tied values the result is the same.)
 */
export function mutualInfoClassif({ x, rows, cols }: Matrix, y: ArrayLike<number>, neighbours = 3): Float64Array {
  const { codes, classes } = classCodes(y);
  const members: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < rows; i++) members[codes[i]!]!.push(i);
  const scores = new Float64Array(cols);
  const column = new Float64Array(rows);
  for (let j = 0; j < cols; j++) {
    for (let i = 0; i < rows; i++) column[i] = x[i * cols + j]!;
    const kept: number[] = [];
    const radius = new Float64Array(rows);
    const kOf = new Float64Array(rows);
    for (const rowsOfClass of members) {
      if (rowsOfClass.length < 2) continue;
      const k = Math.min(neighbours, rowsOfClass.length - 1);
      const values = Float64Array.from(rowsOfClass, (i) => column[i]!).sort();
      for (const i of rowsOfClass) {
        radius[i] = kthDistance(values, column[i]!, k);
        kOf[i] = k;
        kept.push(i);
      }
    }
    const all = Float64Array.from(kept, (i) => column[i]!).sort();
    let sumK = 0;
    let sumLabel = 0;
    let sumM = 0;
    for (const i of kept) {
      const v = column[i]!;
      const r = radius[i]!;
      // Points with |x - v| < r: the open interval (v - r, v + r); includes the row itself.
      const m = lowerBound(all, v + r) - upperBound(all, v - r);
      sumK += digamma(kOf[i]!);
      sumLabel += digamma(members[codes[i]!]!.length);
      sumM += digamma(m);
    }
    const n = kept.length;
    scores[j] = n === 0 ? 0 : Math.max(0, digamma(n) + sumK / n - sumLabel / n - sumM / n);
  }
  return scores;
}

/** Distance from `v` (one of `sorted`) to its k-th nearest other element of `sorted`. */
function kthDistance(sorted: Float64Array, v: number, k: number): number {
  // Start from one occurrence of v, skip itself, merge outwards.
  const at = lowerBound(sorted, v);
  let left = at - 1;
  let right = at + 1;
  let distance = 0;
  for (let taken = 0; taken < k; taken++) {
    const dl = left >= 0 ? v - sorted[left]! : Infinity;
    const dr = right < sorted.length ? sorted[right]! - v : Infinity;
    if (dl <= dr) {
      distance = dl;
      left--;
    } else {
      distance = dr;
      right++;
    }
  }
  return distance;
}

/** First index with sorted[i] >= value. */
function lowerBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index with sorted[i] > value. */
function upperBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface LassoOptions {
  /** Weight of the L1 penalty (scikit-learn's Lasso alpha). */
  alpha: number;
  maxIter?: number;
  /** Stop when no weight moved more than this in a sweep. */
  tol?: number;
}

/**
 * Lasso weights by cyclic coordinate descent (scikit-learn's Lasso objective with an intercept):
 * minimise (1 / 2n)·‖y − ȳ − (X − X̄)w‖² + alpha·‖w‖₁.
 */
export function lasso({ x, rows, cols }: Matrix, y: ArrayLike<number>, options: LassoOptions): Float64Array {
  const { alpha } = options;
  const maxIter = options.maxIter ?? 10_000;
  const tol = options.tol ?? 1e-10;
  const means = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) means[j]! += x[i * cols + j]!;
  for (let j = 0; j < cols; j++) means[j]! /= rows;
  // Column-major centred copy: each coordinate step reads one column.
  const centred = new Float64Array(rows * cols);
  const norms = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    for (let i = 0; i < rows; i++) {
      const v = x[i * cols + j]! - means[j]!;
      centred[j * rows + i] = v;
      norms[j]! += v * v;
    }
  }
  let yMean = 0;
  for (let i = 0; i < rows; i++) yMean += y[i]!;
  yMean /= rows;
  const residual = Float64Array.from({ length: rows }, (_, i) => y[i]! - yMean);
  const weights = new Float64Array(cols);
  const threshold = alpha * rows;
  for (let sweep = 0; sweep < maxIter; sweep++) {
    let largestMove = 0;
    for (let j = 0; j < cols; j++) {
      if (norms[j] === 0) continue;
      const col = centred.subarray(j * rows, (j + 1) * rows);
      const old = weights[j]!;
      let rho = 0;
      for (let i = 0; i < rows; i++) rho += col[i]! * (residual[i]! + col[i]! * old);
      const next = (Math.sign(rho) * Math.max(Math.abs(rho) - threshold, 0)) / norms[j]!;
      if (next !== old) {
        const delta = next - old;
        for (let i = 0; i < rows; i++) residual[i]! -= col[i]! * delta;
        weights[j] = next;
        largestMove = Math.max(largestMove, Math.abs(delta));
      }
    }
    if (largestMove <= tol) break;
  }
  return weights;
}
