// The classical models' hot loops, built on gemm64: the Gram matrix XᵀX (linear regression, PCA)
// and the k-means assignment step. Both are rewritten as matrix products so they run on the packed
// SIMD micro-kernel instead of one dot product at a time.
import { gemm64 } from './gemm64';
import { dot } from './vector';

/** C (n×n, float64) += AᵀA for A m×n; the upper triangle is computed, the lower one mirrored. */
export function syrk(m: i32, n: i32, a: usize, lda: i32, aF32: i32, c: usize, work: usize): void {
  gemm64(1, 0, n, n, m, 1.0, a, lda, aF32, a, lda, aF32, 1.0, c, n, work, 1);
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      store<f64>(c + (<usize>(i * n + j) << 3), load<f64>(c + (<usize>(j * n + i) << 3)));
    }
  }
}

/**
 * Nearest centre for m rows of X (d columns): ‖x‖² − 2·x·c + ‖c‖² with the cross terms from one
 * gemm (X·Cᵀ) into `cross` (m×k doubles, caller-sized). Ties keep the lowest index, as the reference.
 */
export function nearestCenter(
  m: i32, d: i32, x: usize, xF32: i32, k: i32, centers: usize, centerNorms: usize,
  labels: usize, distances: usize, cross: usize, work: usize,
): void {
  gemm64(0, 1, m, k, d, -2.0, x, d, xF32, centers, d, 0, 0.0, cross, k, work, 0);
  const xs: usize = xF32 ? 2 : 3;
  for (let i = 0; i < m; i++) {
    const row = x + (<usize>(i * d) << xs);
    const rowNorm = dot(d, row, xF32, row, xF32);
    let best = Infinity;
    let bestIndex = 0;
    const crossRow = cross + (<usize>(i * k) << 3);
    for (let j = 0; j < k; j++) {
      const distance = rowNorm + load<f64>(crossRow + (<usize>j << 3)) + load<f64>(centerNorms + (<usize>j << 3));
      if (distance < best) {
        best = distance;
        bestIndex = j;
      }
    }
    store<i32>(labels + (<usize>i << 2), bestIndex);
    store<f64>(distances + (<usize>i << 3), best > 0 ? best : 0);
  }
}
