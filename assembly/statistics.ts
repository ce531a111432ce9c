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
  return ((k + 3) >> 2) * 4 * (d + 1) * 8;
}

/**
 * Centres packed for nearestRows at `packed`, times −2 (so a distance is ‖x‖² + x·(−2c) + ‖c‖²:
 * the same bits as ‖x‖² − 2·(x·c) + ‖c‖², scaling by 2 being exact): centre block b, step p, lane q
 * at packed[(b·d + p)·4 + q] (missing centres zero), then the blocks' squared norms, 4 per block, a
 * missing centre's +∞ (its distance is then +∞: never chosen, never a next-nearest below a real
 * one). Returns the address just past them.
 */
function packCenters(d: i32, k: i32, centers: usize, centerNorms: usize, packed: usize): usize {
  const blocks = (k + 3) >> 2;
  for (let b = 0; b < blocks; b++) {
    for (let p = 0; p < d; p++) {
      for (let q = 0; q < 4; q++) {
        const j = b * 4 + q;
        store<f64>(packed + (<usize>((b * d + p) * 4 + q) << 3), j < k ? -2 * load<f64>(centers + (<usize>(j * d + p) << 3)) : 0);
      }
    }
  }
  const norms = packed + (<usize>(blocks * 4 * d) << 3);
  for (let j = 0; j < blocks * 4; j++) store<f64>(norms + (<usize>j << 3), j < k ? load<f64>(centerNorms + (<usize>j << 3)) : Infinity);
  return norms + (<usize>(blocks * 4) << 3);
}

/**
 * Nearest centre for m rows of X (d columns): ‖x‖² − 2·x·c + ‖c‖², the cross terms from a 4-row ×
 * 4-centre register tile (8 f64x2 accumulators, the gemm micro-kernel's shape) over centres packed
 * once per call as d×4 slivers; X is read in place, not packed. The nearest centre is kept without
 * branches, in two lanes per row merged at the end; ties keep the lowest index, as the reference
 * does. A gemm-then-argmin version reached 0.6–0.7× this speed (100000 rows, d=8…64,
 * k=3…16): it packed X, wrote and re-read the m×k cross products, and padded most of its tiles.
 */
export function nearestCenter(
  m: i32, d: i32, x: usize, xF32: i32, k: i32, centers: usize, centerNorms: usize,
  labels: usize, distances: usize, work: usize,
): void {
  packCenters(d, k, centers, centerNorms, work);
  if (xF32) nearestRows<f32>(m, d, x, k, work, labels, distances, 0, 0);
  else nearestRows<f64>(m, d, x, k, work, labels, distances, 0, 0);
}

// c + a·b per lane: fused (one rounding) in the relaxed-SIMD build, as gemm64's madd64 (one
// vfmadd instead of a multiply and an add: the distance tile is bound by those, issue #19).
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  return f64x2.add(c, f64x2.mul(a, b));
}

/** Per lane, `a` where `mask` (a comparison's: all ones or all zeros) is set, else `b`: one blendv in the relaxed-SIMD build. */
// @ts-ignore: decorator
@inline function choose(a: v128, b: v128, mask: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i64x2.relaxed_laneselect(a, b, mask);
  return v128.bitselect(a, b, mask);
}

/** The value at `at` (float64, or float32 widened) in both lanes: one load-and-splat for float64. */
// @ts-ignore: decorator
@inline function splatAt<T>(at: usize): v128 {
  if (sizeof<T>() == 8) return v128.load64_splat(at);
  return f64x2.splat(<f64>load<T>(at));
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
  m: i32, d: i32, x: usize, k: i32, packed: usize, labels: usize, distances: usize, xNorms: usize, seconds: usize,
): void {
  const rowBytes = <usize>d * sizeof<T>();
  const xF32 = sizeof<T>() == 4 ? 1 : 0;
  const blocks = (k + 3) >> 2;
  // The blocks' squared norms, +∞ for missing centres (packCenters).
  const paddedNorms = packed + (<usize>(blocks * 4 * d) << 3);
  const two = f64x2.splat(2);
  const four = f64x2.splat(4);
  for (let i = 0; i < m; i += 4) {
    const rows = min<i32>(4, m - i);
    // Missing rows of the last block repeat the last real row; their results are dropped.
    const r0 = x + <usize>i * rowBytes;
    const r1 = x + <usize>(i + min<i32>(1, rows - 1)) * rowBytes;
    const r2 = x + <usize>(i + min<i32>(2, rows - 1)) * rowBytes;
    const r3 = x + <usize>(i + min<i32>(3, rows - 1)) * rowBytes;
    const n0 = f64x2.splat(rowNorm(d, r0, xF32, xNorms, i));
    const n1 = f64x2.splat(rowNorm(d, r1, xF32, xNorms, i + min<i32>(1, rows - 1)));
    const n2 = f64x2.splat(rowNorm(d, r2, xF32, xNorms, i + min<i32>(2, rows - 1)));
    const n3 = f64x2.splat(rowNorm(d, r3, xF32, xNorms, i + min<i32>(3, rows - 1)));
    // Each row's running minimum in two lanes (lane 0: centres 0, 2, 4, …; lane 1: 1, 3, 5, …), its
    // centre's index (as f64) and the lane's second smallest distance (Hamerly's lower bound,
    // `seconds` ≠ 0). Branch-free: with a branch per comparison, mispredictions on rows of random
    // clusters cost a third of the step (1M×20, k = 10: 53 ms per step against 33 ms without the argmin).
    let best0 = f64x2.splat(Infinity), best1 = best0, best2 = best0, best3 = best0;
    let label0 = f64x2.splat(0), label1 = label0, label2 = label0, label3 = label0;
    let next0 = best0, next1 = best0, next2 = best0, next3 = best0;
    let jLow = f64x2.replace_lane(f64x2.splat(0), 1, 1);
    for (let b = 0; b < blocks; b++) {
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
      const half = k - b * 4 <= 2;
      if (half) {
        for (let p = 0; p < d; p++) {
          const b0 = v128.load(pb);
          c00 = madd(splatAt<T>(r0 + o), b0, c00);
          c10 = madd(splatAt<T>(r1 + o), b0, c10);
          c20 = madd(splatAt<T>(r2 + o), b0, c20);
          c30 = madd(splatAt<T>(r3 + o), b0, c30);
          pb += 32;
          o += sizeof<T>();
        }
      } else for (let p = 0; p < d; p++) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        let a = splatAt<T>(r0 + o);
        c00 = madd(a, b0, c00);
        c01 = madd(a, b1, c01);
        a = splatAt<T>(r1 + o);
        c10 = madd(a, b0, c10);
        c11 = madd(a, b1, c11);
        a = splatAt<T>(r2 + o);
        c20 = madd(a, b0, c20);
        c21 = madd(a, b1, c21);
        a = splatAt<T>(r3 + o);
        c30 = madd(a, b0, c30);
        c31 = madd(a, b1, c31);
        pb += 32;
        o += sizeof<T>();
      }
      // ‖x‖² − 2·x·c + ‖c‖², centres in index order within each lane; strict <, so a lane keeps the
      // first of equal distances.
      const normLow = v128.load(paddedNorms + (<usize>(b * 4) << 3));
      const jHigh = f64x2.add(jLow, two);
      let e = f64x2.add(f64x2.add(n0, c00), normLow);
      let w = f64x2.lt(e, best0);
      if (seconds != 0) next0 = f64x2.min(next0, f64x2.max(e, best0));
      best0 = choose(e, best0, w);
      label0 = choose(jLow, label0, w);
      e = f64x2.add(f64x2.add(n1, c10), normLow);
      w = f64x2.lt(e, best1);
      if (seconds != 0) next1 = f64x2.min(next1, f64x2.max(e, best1));
      best1 = choose(e, best1, w);
      label1 = choose(jLow, label1, w);
      e = f64x2.add(f64x2.add(n2, c20), normLow);
      w = f64x2.lt(e, best2);
      if (seconds != 0) next2 = f64x2.min(next2, f64x2.max(e, best2));
      best2 = choose(e, best2, w);
      label2 = choose(jLow, label2, w);
      e = f64x2.add(f64x2.add(n3, c30), normLow);
      w = f64x2.lt(e, best3);
      if (seconds != 0) next3 = f64x2.min(next3, f64x2.max(e, best3));
      best3 = choose(e, best3, w);
      label3 = choose(jLow, label3, w);
      if (!half) {
        const normHigh = v128.load(paddedNorms + (<usize>(b * 4) << 3), 16);
        e = f64x2.add(f64x2.add(n0, c01), normHigh);
        w = f64x2.lt(e, best0);
        if (seconds != 0) next0 = f64x2.min(next0, f64x2.max(e, best0));
        best0 = choose(e, best0, w);
        label0 = choose(jHigh, label0, w);
        e = f64x2.add(f64x2.add(n1, c11), normHigh);
        w = f64x2.lt(e, best1);
        if (seconds != 0) next1 = f64x2.min(next1, f64x2.max(e, best1));
        best1 = choose(e, best1, w);
        label1 = choose(jHigh, label1, w);
        e = f64x2.add(f64x2.add(n2, c21), normHigh);
        w = f64x2.lt(e, best2);
        if (seconds != 0) next2 = f64x2.min(next2, f64x2.max(e, best2));
        best2 = choose(e, best2, w);
        label2 = choose(jHigh, label2, w);
        e = f64x2.add(f64x2.add(n3, c31), normHigh);
        w = f64x2.lt(e, best3);
        if (seconds != 0) next3 = f64x2.min(next3, f64x2.max(e, best3));
        best3 = choose(e, best3, w);
        label3 = choose(jHigh, label3, w);
      }
      jLow = f64x2.add(jLow, four);
    }
    const lo = labels + (<usize>i << 2);
    const dso = distances + (<usize>i << 3);
    const so = seconds + (<usize>i << 3);
    nearestOfLanes(best0, label0, next0, lo, dso, so, seconds != 0);
    if (rows > 1) nearestOfLanes(best1, label1, next1, lo + 4, dso + 8, so + 8, seconds != 0);
    if (rows > 2) nearestOfLanes(best2, label2, next2, lo + 8, dso + 16, so + 16, seconds != 0);
    if (rows > 3) nearestOfLanes(best3, label3, next3, lo + 12, dso + 24, so + 24, seconds != 0);
  }
}

/**
 * A row's nearest centre from its two lanes (nearestRows): the smaller distance, of equal ones the
 * lower index — the first minimum of the whole scan in index order; its label and distance (a
 * negative rounding clamped to 0) stored, and with `withSeconds` the second smallest distance of the
 * whole scan (the smaller of the two lanes' seconds and the larger of their minima).
 */
// @ts-ignore: decorator
@inline function nearestOfLanes(best: v128, label: v128, next: v128, labelAt: usize, distanceAt: usize, secondAt: usize, withSeconds: bool): void {
  const b0 = f64x2.extract_lane(best, 0), b1 = f64x2.extract_lane(best, 1);
  const l0 = f64x2.extract_lane(label, 0), l1 = f64x2.extract_lane(label, 1);
  const other = (b1 < b0) | ((b1 == b0) & (l1 < l0));
  const nearest = select<f64>(b1, b0, other);
  store<i32>(labelAt, <i32>select<f64>(l1, l0, other));
  store<f64>(distanceAt, nearest > 0 ? nearest : 0);
  if (withSeconds) {
    const n = f64x2.min(next, f64x2.max(best, v128.shuffle<f64>(best, best, 1, 0)));
    store<f64>(secondAt, min<f64>(f64x2.extract_lane(n, 0), f64x2.extract_lane(n, 1)));
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
  labels: usize, distances: usize, stats: usize, xNorms: usize, lower: usize, shifts: usize, halfSeparation: usize,
  work: usize,
): void {
  const packed = work;
  const scratch = packCenters(d, k, centers, centerNorms, packed);
  if (lower != 0) {
    if (xF32) boundedRows<f32>(m, d, x, k, packed, scratch, centerNorms, labels, distances, stats, xNorms, lower, shifts, halfSeparation);
    else boundedRows<f64>(m, d, x, k, packed, scratch, centerNorms, labels, distances, stats, xNorms, lower, shifts, halfSeparation);
    return;
  }
  // Labels are read before nearestRows overwrites them, 4 rows at a time (its block size).
  const previous = scratch;
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
    if (xF32) nearestRows<f32>(rows, d, xi, k, packed, lo, di, ni, 0);
    else nearestRows<f64>(rows, d, xi, k, packed, lo, di, ni, 0);
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

const UNIT_ROUNDOFF: f64 = 1.1102230246251565e-16;
const SHRINK: f64 = 1 - 8 * UNIT_ROUNDOFF;

/** Rows whose labels boundedRows settles before adding them up in order (their previous labels kept meanwhile). */
const BOUNDED_CHUNK = 256;

/** Bytes of workspace lloydStep needs for k centres of d dimensions (with bounds or without). */
export function lloydStepWorkBytes(d: i32, k: i32): i32 {
  // lloydStep's previous labels of a block, then boundedRows' chunk of previous
  // labels, four gathered rows (as f64 at most) and their norms, labels, distances, seconds and rows,
  // then a group's four row norms and own distances.
  return nearestCenterWorkBytes(d, k) + 16 + BOUNDED_CHUNK * 4 + 4 * d * 8 + 4 * 8 * 3 + 16 + 16 + 64;
}

/**
 * Squared distances of `count` (≤ 4) consecutive rows to their own centres (labels; −1: any, result
 * unused) into out[0..4), each in exactly the arithmetic of nearestRows' lane for that centre (bitwise
 * the same value): one lane per row, two rows per f64x2, so four independent multiply-add chains run
 * side by side instead of one long chain per row.
 */
function ownDistances<T>(
  count: i32, d: i32, x: usize, labels: usize, packed: usize, centerNorms: usize, norms: usize, out: usize,
): void {
  const rowBytes = <usize>d * sizeof<T>();
  const last = count - 1;
  const r0 = x, r1 = x + <usize>min<i32>(1, last) * rowBytes, r2 = x + <usize>min<i32>(2, last) * rowBytes, r3 = x + <usize>min<i32>(3, last) * rowBytes;
  const j0 = max<i32>(load<i32>(labels), 0);
  const j1 = max<i32>(load<i32>(labels + (<usize>min<i32>(1, last) << 2)), 0);
  const j2 = max<i32>(load<i32>(labels + (<usize>min<i32>(2, last) << 2)), 0);
  const j3 = max<i32>(load<i32>(labels + (<usize>min<i32>(3, last) << 2)), 0);
  // Centre j's coordinate p sits at packed[((j >> 2)·d + p)·4 + (j & 3)]: a stride of 32 bytes per p.
  let p0 = packed + (<usize>(((j0 >> 2) * d * 4) + (j0 & 3)) << 3);
  let p1 = packed + (<usize>(((j1 >> 2) * d * 4) + (j1 & 3)) << 3);
  let p2 = packed + (<usize>(((j2 >> 2) * d * 4) + (j2 & 3)) << 3);
  let p3 = packed + (<usize>(((j3 >> 2) * d * 4) + (j3 & 3)) << 3);
  let a01 = f64x2.splat(0);
  let a23 = f64x2.splat(0);
  let o: usize = 0;
  for (let p = 0; p < d; p++) {
    const x01 = f64x2.replace_lane(f64x2.splat(<f64>load<T>(r0 + o)), 1, <f64>load<T>(r1 + o));
    const x23 = f64x2.replace_lane(f64x2.splat(<f64>load<T>(r2 + o)), 1, <f64>load<T>(r3 + o));
    const c01 = f64x2.replace_lane(f64x2.splat(load<f64>(p0)), 1, load<f64>(p1));
    const c23 = f64x2.replace_lane(f64x2.splat(load<f64>(p2)), 1, load<f64>(p3));
    a01 = madd(x01, c01, a01);
    a23 = madd(x23, c23, a23);
    p0 += 32;
    p1 += 32;
    p2 += 32;
    p3 += 32;
    o += sizeof<T>();
  }
  store<f64>(out, load<f64>(norms) + f64x2.extract_lane(a01, 0) + load<f64>(centerNorms + (<usize>j0 << 3)));
  store<f64>(out, load<f64>(norms, 8) + f64x2.extract_lane(a01, 1) + load<f64>(centerNorms + (<usize>j1 << 3)), 8);
  store<f64>(out, load<f64>(norms, 16) + f64x2.extract_lane(a23, 0) + load<f64>(centerNorms + (<usize>j2 << 3)), 16);
  store<f64>(out, load<f64>(norms, 24) + f64x2.extract_lane(a23, 1) + load<f64>(centerNorms + (<usize>j3 << 3)), 24);
}

/**
 * lloydStep with Hamerly's bounds (k-means `algorithm: 'hamerly'`): the same labels, distances and
 * stats, bit for bit, with fewer distances computed. lower[i] bounds from below the distance of row i
 * to every centre but its own; shifts[j] is how far centre j moved since the previous call and
 * halfSeparation[j] half the distance from centre j to its nearest other centre (both computed by
 * the caller, rounded outward). Per row: the squared distance e to its own centre, in exactly the
 * arithmetic of nearestRows; if the bounds prove every other centre's computed distance exceeds e
 * (L = max(lower − largest other shift, 2·halfSeparation − √(e + E)) with L² − E > e, where E bounds
 * the rounding error of one computed squared distance), the row keeps its label — as Lloyd would
 * find it. Otherwise the row joins a 4-row tile scanned against all centres by nearestRows, which also
 * yields the next-nearest distance for the new lower bound. Labels of a chunk are settled first; the
 * chunk is then added up in row order, so the sums are those of lloydStep without bounds.
 */
function boundedRows<T>(
  m: i32, d: i32, x: usize, k: i32, packed: usize, scratch: usize, centerNorms: usize, labels: usize, distances: usize,
  stats: usize, xNorms: usize, lower: usize, shifts: usize, halfSeparation: usize,
): void {
  const rowBytes = <usize>d * sizeof<T>();
  const previous = scratch + 16;
  const gathered = previous + (<usize>BOUNDED_CHUNK << 2);
  const gatheredNorms = gathered + (<usize>(4 * d) << 3);
  const gatheredRows = gatheredNorms + 112; // after scanGathered's norms, labels, distances and seconds
  const groupNorms = gatheredRows + 16;
  const owns = groupNorms + 32;
  // The largest shift, the centre that made it, and the second largest: row i's other centres moved at most
  // the largest, or the second largest when its own centre made the largest.
  let largest: f64 = 0, runnerUp: f64 = 0;
  let largestAt = -1;
  let maxNorm: f64 = 0;
  for (let j = 0; j < k; j++) {
    const shift = load<f64>(shifts + (<usize>j << 3));
    if (shift > largest) { runnerUp = largest; largest = shift; largestAt = j; } else if (shift > runnerUp) runnerUp = shift;
    maxNorm = max<f64>(maxNorm, load<f64>(centerNorms + (<usize>j << 3)));
  }
  // Rounding error of a computed ‖x‖² − 2·x·c + ‖c‖²: at most (2d + 4)·u·(‖x‖² + ‖c‖²) (dot products of
  // length d, then two additions), u = 2⁻⁵³; allowed twice over, plus room for the rounding of the
  // bound itself (2·halfSeparation − √(e + E) may cancel), hence (4d + 64)·u.
  const slack: f64 = <f64>(4 * d + 64) * UNIT_ROUNDOFF;
  const countsAt = stats + (<usize>(k * d) << 3);
  const inertiaAt = countsAt + (<usize>k << 3);
  let changed: f64 = 0;
  for (let start = 0; start < m; start += BOUNDED_CHUNK) {
    const end = min<i32>(m, start + BOUNDED_CHUNK);
    let pending = 0;
    for (let group = start; group < end; group += 4) {
      const count = min<i32>(4, end - group);
      for (let r = 0; r < count; r++) {
        const i = group + r;
        store<i32>(previous + (<usize>(i - start) << 2), load<i32>(labels + (<usize>i << 2)));
        store<f64>(groupNorms + (<usize>r << 3), rowNorm(d, x + <usize>i * rowBytes, sizeof<T>() == 4 ? 1 : 0, xNorms, i));
      }
      // Rows without a label yet (the first call) are scanned; the others only if their bounds fail.
      let fresh = true;
      for (let r = 0; r < count; r++) fresh = fresh && load<i32>(previous + (<usize>(group + r - start) << 2)) < 0;
      if (!fresh) ownDistances<T>(count, d, x + <usize>group * rowBytes, labels + (<usize>group << 2), packed, centerNorms, groupNorms, owns);
      let scan = 0; // bit r: row group + r is compared with every centre
      for (let r = 0; r < count; r++) {
        const i = group + r;
        const label = load<i32>(previous + (<usize>(i - start) << 2));
        if (label >= 0) {
          const error = slack * (load<f64>(groupNorms + (<usize>r << 3)) + maxNorm);
          const lowerAt = lower + (<usize>i << 3);
          // Shrunk by 8 ulps: the bound decreases a little faster than its rounding could lift it, every call.
          const others = (load<f64>(lowerAt) - (label == largestAt ? runnerUp : largest)) * SHRINK;
          const e = load<f64>(owns + (<usize>r << 3));
          // The lower bound alone settles most rows; the separation's bound needs a square root.
          let bound = others;
          if (!(bound > 0 && e < bound * bound - error)) {
            bound = max<f64>(bound, 2 * load<f64>(halfSeparation + (<usize>label << 3)) - sqrt<f64>(max<f64>(e, 0) + error));
          }
          if (bound > 0 && e < bound * bound - error) {
            store<f64>(lowerAt, others);
            store<f64>(distances + (<usize>i << 3), e > 0 ? e : 0);
            continue;
          }
        }
        scan |= 1 << r;
      }
      if (scan == (1 << count) - 1) {
        // The whole group: scanned in place, as lloydStep without bounds would.
        nearestRows<T>(count, d, x + <usize>group * rowBytes, k, packed, labels + (<usize>group << 2),
          distances + (<usize>group << 3), groupNorms, owns);
        lowerBounds(count, owns, groupNorms, lower + (<usize>group << 3), slack, maxNorm);
        continue;
      }
      for (let r = 0; r < count; r++) {
        if ((scan & (1 << r)) == 0) continue;
        const i = group + r;
        memory.copy(gathered + <usize>pending * rowBytes, x + <usize>i * rowBytes, rowBytes);
        store<f64>(gatheredNorms + (<usize>pending << 3), load<f64>(groupNorms + (<usize>r << 3)));
        store<i32>(gatheredRows + (<usize>pending << 2), i);
        pending++;
        if (pending == 4) {
          scanGathered<T>(4, d, k, packed, gathered, labels, distances, lower, slack, maxNorm);
          pending = 0;
        }
      }
    }
    if (pending > 0) scanGathered<T>(pending, d, k, packed, gathered, labels, distances, lower, slack, maxNorm);
    for (let i = start; i < end; i++) {
      const label = load<i32>(labels + (<usize>i << 2));
      addRow<T>(d, x + <usize>i * rowBytes, stats + (<usize>(label * d) << 3));
      const countAt = countsAt + (<usize>label << 3);
      store<f64>(countAt, load<f64>(countAt) + 1);
      store<f64>(inertiaAt, load<f64>(inertiaAt) + load<f64>(distances + (<usize>i << 3)));
      if (label != load<i32>(previous + (<usize>(i - start) << 2))) changed += 1;
    }
  }
  store<f64>(inertiaAt, load<f64>(inertiaAt, 8) + changed, 8);
}

/** nearestRows over the `count` rows gathered by boundedRows; their labels, distances and lower bounds written back. */
function scanGathered<T>(
  count: i32, d: i32, k: i32, packed: usize, gathered: usize,
  labels: usize, distances: usize, lower: usize, slack: f64, maxNorm: f64,
): void {
  const gatheredNorms = gathered + (<usize>(4 * d) << 3);
  const gatheredLabels = gatheredNorms + 32;
  const gatheredDistances = gatheredLabels + 16;
  const gatheredSeconds = gatheredDistances + 32;
  const gatheredRows = gatheredSeconds + 32;
  nearestRows<T>(count, d, gathered, k, packed, gatheredLabels, gatheredDistances, gatheredNorms, gatheredSeconds);
  lowerBounds(count, gatheredSeconds, gatheredNorms, gatheredSeconds, slack, maxNorm); // in place, then scattered
  for (let r = 0; r < count; r++) {
    const i = load<i32>(gatheredRows + (<usize>r << 2));
    store<i32>(labels + (<usize>i << 2), load<i32>(gatheredLabels + (<usize>r << 2)));
    store<f64>(distances + (<usize>i << 3), load<f64>(gatheredDistances + (<usize>r << 3)));
    store<f64>(lower + (<usize>i << 3), load<f64>(gatheredSeconds + (<usize>r << 3)));
  }
}

/** lower[r] = √(seconds[r] − E_r), r < count: the next-nearest computed squared distance, made a lower bound on the true distance. */
function lowerBounds(count: i32, seconds: usize, norms: usize, lower: usize, slack: f64, maxNorm: f64): void {
  for (let r = 0; r < count; r++) {
    const error = slack * (load<f64>(norms + (<usize>r << 3)) + maxNorm);
    store<f64>(lower + (<usize>r << 3), sqrt<f64>(max<f64>(load<f64>(seconds + (<usize>r << 3)) - error, 0)));
  }
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
