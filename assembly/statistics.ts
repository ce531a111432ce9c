// The classical models' hot loops: the Gram matrix XᵀX (linear regression, PCA) as an
// upper-triangle gemm, and the k-means assignment step on the gemm micro-kernel's register tile.
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

/** Bytes of workspace nearestCenter needs for k centres of d dimensions. */
export function nearestCenterWorkBytes(d: i32, k: i32): i32 {
  return ((k + 3) >> 2) * 4 * d * 8 + 16 * 8;
}

/**
 * Nearest centre for m rows of X (d columns): ‖x‖² − 2·x·c + ‖c‖², the cross terms from a 4-row ×
 * 4-centre register tile (8 f64x2 accumulators, the gemm micro-kernel's shape) over centres packed
 * once per call as d×4 slivers; X is read in place, not packed. Ties keep the lowest index, as the
 * reference does. A gemm-then-argmin version reached 0.6–0.7× this speed (100000 rows, d=8…64,
 * k=3…16): it packed X, wrote and re-read the m×k cross products, and padded most of its tiles.
 */
export function nearestCenter(
  m: i32, d: i32, x: usize, xF32: i32, k: i32, centers: usize, centerNorms: usize,
  labels: usize, distances: usize, work: usize,
): void {
  const blocks = (k + 3) >> 2;
  const packed = work;
  const tile = work + (<usize>(blocks * 4 * d) << 3);
  // Centre block b, step p, lane q at packed[(b·d + p)·4 + q]; missing centres are zero (never chosen).
  for (let b = 0; b < blocks; b++) {
    for (let p = 0; p < d; p++) {
      for (let q = 0; q < 4; q++) {
        const j = b * 4 + q;
        store<f64>(packed + (<usize>((b * d + p) * 4 + q) << 3), j < k ? load<f64>(centers + (<usize>(j * d + p) << 3)) : 0);
      }
    }
  }
  if (xF32) nearestRows<f32>(m, d, x, k, packed, tile, centerNorms, labels, distances, 0);
  else nearestRows<f64>(m, d, x, k, packed, tile, centerNorms, labels, distances, 0);
}

// c + a·b per lane: fused (one rounding) in the relaxed-SIMD build, as gemm64's madd64 (one
// vfmadd instead of a multiply and an add: the distance tile is bound by those, issue #19).
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  return f64x2.add(c, f64x2.mul(a, b));
}

/** ‖row‖² from `xNorms` (0: none kept) when it holds one (not NaN), else computed there and kept. */
// @ts-ignore: decorator
@inline function rowNorm(d: i32, row: usize, xF32: i32, xNorms: usize, i: i32): f64 {
  if (xNorms == 0) return dot(d, row, xF32, row, xF32);
  const at = xNorms + (<usize>i << 3);
  let norm = load<f64>(at);
  if (norm != norm) {
    norm = dot(d, row, xF32, row, xF32);
    store<f64>(at, norm);
  }
  return norm;
}

function nearestRows<T>(
  m: i32, d: i32, x: usize, k: i32, packed: usize, tile: usize, centerNorms: usize, labels: usize, distances: usize,
  xNorms: usize,
): void {
  const rowBytes = <usize>d * sizeof<T>();
  const xF32 = sizeof<T>() == 4 ? 1 : 0;
  for (let i = 0; i < m; i += 4) {
    const rows = min<i32>(4, m - i);
    // Missing rows of the last block repeat the last real row; their results are dropped.
    const r0 = x + <usize>i * rowBytes;
    const r1 = x + <usize>(i + min<i32>(1, rows - 1)) * rowBytes;
    const r2 = x + <usize>(i + min<i32>(2, rows - 1)) * rowBytes;
    const r3 = x + <usize>(i + min<i32>(3, rows - 1)) * rowBytes;
    const n0 = rowNorm(d, r0, xF32, xNorms, i);
    const n1 = rowNorm(d, r1, xF32, xNorms, i + min<i32>(1, rows - 1));
    const n2 = rowNorm(d, r2, xF32, xNorms, i + min<i32>(2, rows - 1));
    const n3 = rowNorm(d, r3, xF32, xNorms, i + min<i32>(3, rows - 1));
    let best0 = Infinity, best1 = Infinity, best2 = Infinity, best3 = Infinity;
    let label0 = 0, label1 = 0, label2 = 0, label3 = 0;
    for (let b = 0; b < (k + 3) >> 2; b++) {
      let c00 = f64x2.splat(0);
      let c01 = f64x2.splat(0);
      let c10 = f64x2.splat(0);
      let c11 = f64x2.splat(0);
      let c20 = f64x2.splat(0);
      let c21 = f64x2.splat(0);
      let c30 = f64x2.splat(0);
      let c31 = f64x2.splat(0);
      let pb = packed + (<usize>(b * d * 4) << 3);
      let o: usize = 0;
      // A last block of one or two centres (k = 10: the third of three) skips the empty half of the
      // tile; lanes 0–1 are computed exactly as in the full loop.
      if (k - b * 4 <= 2) {
        for (let p = 0; p < d; p++) {
          const b0 = v128.load(pb);
          c00 = madd(f64x2.splat(<f64>load<T>(r0 + o)), b0, c00);
          c10 = madd(f64x2.splat(<f64>load<T>(r1 + o)), b0, c10);
          c20 = madd(f64x2.splat(<f64>load<T>(r2 + o)), b0, c20);
          c30 = madd(f64x2.splat(<f64>load<T>(r3 + o)), b0, c30);
          pb += 32;
          o += sizeof<T>();
        }
      } else for (let p = 0; p < d; p++) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        let a = f64x2.splat(<f64>load<T>(r0 + o));
        c00 = madd(a, b0, c00);
        c01 = madd(a, b1, c01);
        a = f64x2.splat(<f64>load<T>(r1 + o));
        c10 = madd(a, b0, c10);
        c11 = madd(a, b1, c11);
        a = f64x2.splat(<f64>load<T>(r2 + o));
        c20 = madd(a, b0, c20);
        c21 = madd(a, b1, c21);
        a = f64x2.splat(<f64>load<T>(r3 + o));
        c30 = madd(a, b0, c30);
        c31 = madd(a, b1, c31);
        pb += 32;
        o += sizeof<T>();
      }
      v128.store(tile, c00);
      v128.store(tile, c01, 16);
      v128.store(tile, c10, 32);
      v128.store(tile, c11, 48);
      v128.store(tile, c20, 64);
      v128.store(tile, c21, 80);
      v128.store(tile, c30, 96);
      v128.store(tile, c31, 112);
      const count = min<i32>(4, k - b * 4);
      for (let q = 0; q < count; q++) {
        const j = b * 4 + q;
        const norm = load<f64>(centerNorms + (<usize>j << 3));
        const qo = <usize>q << 3;
        const e0 = n0 - 2 * load<f64>(tile + qo) + norm;
        const e1 = n1 - 2 * load<f64>(tile + qo, 32) + norm;
        const e2 = n2 - 2 * load<f64>(tile + qo, 64) + norm;
        const e3 = n3 - 2 * load<f64>(tile + qo, 96) + norm;
        if (e0 < best0) { best0 = e0; label0 = j; }
        if (e1 < best1) { best1 = e1; label1 = j; }
        if (e2 < best2) { best2 = e2; label2 = j; }
        if (e3 < best3) { best3 = e3; label3 = j; }
      }
    }
    const lo = labels + (<usize>i << 2);
    const dso = distances + (<usize>i << 3);
    store<i32>(lo, label0);
    store<f64>(dso, best0 > 0 ? best0 : 0);
    if (rows > 1) { store<i32>(lo, label1, 4); store<f64>(dso, best1 > 0 ? best1 : 0, 8); }
    if (rows > 2) { store<i32>(lo, label2, 8); store<f64>(dso, best2 > 0 ? best2 : 0, 16); }
    if (rows > 3) { store<i32>(lo, label3, 12); store<f64>(dso, best3 > 0 ? best3 : 0, 24); }
  }
}

/**
 * One Lloyd iteration's local work on m rows, fused (k-means): the nearest centre of each row as
 * `nearestCenter` computes it (same tile, same sums: bitwise the same labels and distances), then,
 * while the rows are still in L1, their per-cluster sums and counts, the inertia and the number of
 * labels that changed, added into stats = [sums (k·d) | counts (k) | inertia | changed] (float64).
 * `labels` holds the previous labels on entry (−1: none) and the new ones on return; `xNorms` (0:
 * none) keeps ‖row‖² between iterations — NaN entries are computed and stored. Rows are added
 * in order, as the TypeScript reference does, so the sums are bitwise the reference's for the same
 * labels. Before this, the accumulation ran in TypeScript after the kernel: 20 % of a 1M×20 fit.
 */
export function lloydStep(
  m: i32, d: i32, x: usize, xF32: i32, k: i32, centers: usize, centerNorms: usize,
  labels: usize, distances: usize, stats: usize, xNorms: usize, work: usize,
): void {
  const blocks = (k + 3) >> 2;
  const packed = work;
  const tile = work + (<usize>(blocks * 4 * d) << 3);
  for (let b = 0; b < blocks; b++) {
    for (let p = 0; p < d; p++) {
      for (let q = 0; q < 4; q++) {
        const j = b * 4 + q;
        store<f64>(packed + (<usize>((b * d + p) * 4 + q) << 3), j < k ? load<f64>(centers + (<usize>(j * d + p) << 3)) : 0);
      }
    }
  }
  // Labels are read before nearestRows overwrites them, 4 rows at a time (its block size).
  const previous = tile + 128;
  const rowBytes = <usize>d << (xF32 ? 2 : 3);
  const countsAt = stats + (<usize>(k * d) << 3);
  const inertiaAt = countsAt + (<usize>k << 3);
  let changed: f64 = 0;
  for (let i = 0; i < m; i += 4) {
    const rows = min<i32>(4, m - i);
    const lo = labels + (<usize>i << 2);
    for (let r = 0; r < rows; r++) store<i32>(previous + (<usize>r << 2), load<i32>(lo + (<usize>r << 2)));
    const xi = x + <usize>i * rowBytes;
    const di = distances + (<usize>i << 3);
    const ni: usize = xNorms == 0 ? 0 : xNorms + (<usize>i << 3);
    if (xF32) nearestRows<f32>(rows, d, xi, k, packed, tile, centerNorms, lo, di, ni);
    else nearestRows<f64>(rows, d, xi, k, packed, tile, centerNorms, lo, di, ni);
    for (let r = 0; r < rows; r++) {
      const label = load<i32>(lo + (<usize>r << 2));
      const row = xi + <usize>r * rowBytes;
      const sums = stats + (<usize>(label * d) << 3);
      if (xF32) addRow<f32>(d, row, sums);
      else addRow<f64>(d, row, sums);
      const countAt = countsAt + (<usize>label << 3);
      store<f64>(countAt, load<f64>(countAt) + 1);
      store<f64>(inertiaAt, load<f64>(inertiaAt) + load<f64>(di + (<usize>r << 3)));
      if (label != load<i32>(previous + (<usize>r << 2))) changed += 1;
    }
  }
  store<f64>(inertiaAt, load<f64>(inertiaAt, 8) + changed, 8);
}

/** sums[c] += row[c], c < d (two lanes at a time: each element's additions are unchanged). */
function addRow<T>(d: i32, row: usize, sums: usize): void {
  let c = 0;
  if (sizeof<T>() == 8) {
    for (; c + 2 <= d; c += 2) {
      const at = sums + (<usize>c << 3);
      v128.store(at, f64x2.add(v128.load(at), v128.load(row + (<usize>c << 3))));
    }
  }
  for (; c < d; c++) {
    const at = sums + (<usize>c << 3);
    store<f64>(at, load<f64>(at) + <f64>load<T>(row + (<usize>c * sizeof<T>())));
  }
}

/** Bytes of workspace lloydStep needs for k centres of d dimensions. */
export function lloydStepWorkBytes(d: i32, k: i32): i32 {
  return nearestCenterWorkBytes(d, k) + 16;
}

/**
 * out[i·d + c] = x[i·d + c] − v[c] for `rows` rows of d columns (x float64, or float32 widened
 * first), out and v float64: the rows centred by a mean, one IEEE subtraction per element (the
 * same values as the TypeScript reference).
 */
export function subtractRow(rows: i32, d: i32, x: usize, xF32: i32, v: usize, out: usize): void {
  for (let i = 0; i < rows; i++) {
    let c = 0;
    if (xF32) {
      const row = x + (<usize>(i * d) << 2);
      for (; c + 1 < d; c += 2) {
        const o = <usize>c << 3;
        v128.store(out + o, f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(row + (<usize>c << 2))), v128.load(v + o)));
      }
      for (; c < d; c++) store<f64>(out + (<usize>c << 3), <f64>load<f32>(row + (<usize>c << 2)) - load<f64>(v + (<usize>c << 3)));
    } else {
      const row = x + (<usize>(i * d) << 3);
      for (; c + 3 < d; c += 4) {
        const o = <usize>c << 3;
        v128.store(out + o, f64x2.sub(v128.load(row + o), v128.load(v + o)));
        v128.store(out + o, f64x2.sub(v128.load(row + o, 16), v128.load(v + o, 16)), 16);
      }
      for (; c < d; c++) store<f64>(out + (<usize>c << 3), load<f64>(row + (<usize>c << 3)) - load<f64>(v + (<usize>c << 3)));
    }
    out += <usize>d << 3;
  }
}
