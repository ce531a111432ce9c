// Level-1 and level-2 kernels (dot, axpy, scal, gemv) on f64x2 lanes. Float32 inputs are widened
// to float64 before any arithmetic so results match the TypeScript reference, which computes in
// float64 and rounds once on store.

// Two f32 at `p` widened to an f64x2.
// @ts-ignore: decorator
@inline function load2(p: usize, f32: bool): v128 {
  return f32 ? f64x2.promote_low_f32x4(v128.load64_zero(p)) : v128.load(p);
}

/** Σ x[i]·y[i] over n elements, accumulated in float64 with four lanes-pairs. */
export function dot(n: i32, x: usize, xF32: i32, y: usize, yF32: i32): f64 {
  const xs: usize = xF32 ? 2 : 3;
  const ys: usize = yF32 ? 2 : 3;
  let s0 = f64x2.splat(0);
  let s1 = f64x2.splat(0);
  let i = 0;
  if (!xF32 && !yF32) {
    for (; i + 3 < n; i += 4) {
      const o = <usize>i << 3;
      s0 = f64x2.add(s0, f64x2.mul(v128.load(x + o), v128.load(y + o)));
      s1 = f64x2.add(s1, f64x2.mul(v128.load(x + o, 16), v128.load(y + o, 16)));
    }
  } else {
    for (; i + 3 < n; i += 4) {
      const ox = <usize>i << xs;
      const oy = <usize>i << ys;
      s0 = f64x2.add(s0, f64x2.mul(load2(x + ox, xF32 != 0), load2(y + oy, yF32 != 0)));
      s1 = f64x2.add(s1, f64x2.mul(load2(x + ox + (<usize>2 << xs), xF32 != 0), load2(y + oy + (<usize>2 << ys), yF32 != 0)));
    }
  }
  const s = f64x2.add(s0, s1);
  let total = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; i < n; i++) {
    const xv = xF32 ? <f64>load<f32>(x + (<usize>i << 2)) : load<f64>(x + (<usize>i << 3));
    const yv = yF32 ? <f64>load<f32>(y + (<usize>i << 2)) : load<f64>(y + (<usize>i << 3));
    total += xv * yv;
  }
  return total;
}

/** y += alpha·x; x and y float64, or both float32 (computed in float64, rounded once). */
export function axpy(n: i32, alpha: f64, x: usize, y: usize, f32: i32): void {
  if (alpha == 0) return;
  let i = 0;
  const va = f64x2.splat(alpha);
  if (f32) {
    for (; i + 1 < n; i += 2) {
      const o = <usize>i << 2;
      const sum = f64x2.add(load2(y + o, true), f64x2.mul(va, load2(x + o, true)));
      v128.store64_lane(y + o, f32x4.demote_f64x2_zero(sum), 0);
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(y + o, <f32>(<f64>load<f32>(y + o) + alpha * <f64>load<f32>(x + o)));
    }
    return;
  }
  for (; i + 1 < n; i += 2) {
    const o = <usize>i << 3;
    v128.store(y + o, f64x2.add(v128.load(y + o), f64x2.mul(va, v128.load(x + o))));
  }
  if (i < n) {
    const o = <usize>i << 3;
    store<f64>(y + o, load<f64>(y + o) + alpha * load<f64>(x + o));
  }
}

/** x *= alpha; float64, or float32 computed in float64 and rounded once. */
export function scal(n: i32, alpha: f64, x: usize, f32: i32): void {
  let i = 0;
  const va = f64x2.splat(alpha);
  if (f32) {
    for (; i + 1 < n; i += 2) {
      const o = <usize>i << 2;
      v128.store64_lane(x + o, f32x4.demote_f64x2_zero(f64x2.mul(load2(x + o, true), va)), 0);
    }
    if (i < n) store<f32>(x + (<usize>i << 2), <f32>(<f64>load<f32>(x + (<usize>i << 2)) * alpha));
    return;
  }
  for (; i + 1 < n; i += 2) {
    const o = <usize>i << 3;
    v128.store(x + o, f64x2.mul(v128.load(x + o), va));
  }
  if (i < n) store<f64>(x + (<usize>i << 3), load<f64>(x + (<usize>i << 3)) * alpha);
}

/**
 * y = alpha·op(A)·x + beta·y; A m×n (float64 or float32 `aF32`), x and y float64.
 * Not transposed: one dot per row. Transposed: y is scaled, then each row of A is added with weight
 * alpha·x[i], so A is still read row by row (contiguous).
 */
export function gemv(
  transA: i32, m: i32, n: i32, alpha: f64, a: usize, lda: i32, aF32: i32,
  x: usize, beta: f64, y: usize,
): void {
  const as: usize = aF32 ? 2 : 3;
  if (!transA) {
    for (let i = 0; i < m; i++) {
      const value = alpha * dot(n, a + (<usize>(i * lda) << as), aF32, x, 0);
      const at = y + (<usize>i << 3);
      store<f64>(at, beta == 0 ? value : beta * load<f64>(at) + value);
    }
    return;
  }
  if (beta == 0) memory.fill(y, 0, <usize>n << 3);
  else if (beta != 1) scal(n, beta, y, 0);
  let i = 0;
  // Four rows at a time: y's pair is loaded and stored once per four rows, not per row (per row it
  // was three memory operations to one multiply-add: 1M×50 took ~22 ms, as long as reading X from
  // memory). The adds stay in row order, so the sums are the same bits as one row at a time; a group
  // with a zero weight goes row by row below, which skips that row (0·∞ would be NaN).
  for (; i + 3 < m; i += 4) {
    const at = x + (<usize>i << 3);
    const w0 = alpha * load<f64>(at);
    const w1 = alpha * load<f64>(at, 8);
    const w2 = alpha * load<f64>(at, 16);
    const w3 = alpha * load<f64>(at, 24);
    if (w0 == 0 || w1 == 0 || w2 == 0 || w3 == 0) {
      gemvRowsT(i, i + 4, n, alpha, a, lda, aF32, x, y);
      continue;
    }
    const r0 = a + (<usize>(i * lda) << as);
    const r1 = r0 + (<usize>lda << as);
    const r2 = r1 + (<usize>lda << as);
    const r3 = r2 + (<usize>lda << as);
    const v0 = f64x2.splat(w0), v1 = f64x2.splat(w1), v2 = f64x2.splat(w2), v3 = f64x2.splat(w3);
    const f32 = aF32 != 0;
    let j = 0;
    for (; j + 1 < n; j += 2) {
      const o = <usize>j << 3;
      const oa = <usize>j << as;
      let sum = f64x2.add(v128.load(y + o), f64x2.mul(v0, load2(r0 + oa, f32)));
      sum = f64x2.add(sum, f64x2.mul(v1, load2(r1 + oa, f32)));
      sum = f64x2.add(sum, f64x2.mul(v2, load2(r2 + oa, f32)));
      v128.store(y + o, f64x2.add(sum, f64x2.mul(v3, load2(r3 + oa, f32))));
    }
    if (j < n) gemvTail(j, w0, w1, w2, w3, r0, r1, r2, r3, aF32, y);
  }
  gemvRowsT(i, m, n, alpha, a, lda, aF32, x, y);
}

/** y[j] += w0·r0[j] + w1·r1[j] + w2·r2[j] + w3·r3[j], added in that order: an odd n's last column. */
function gemvTail(j: i32, w0: f64, w1: f64, w2: f64, w3: f64, r0: usize, r1: usize, r2: usize, r3: usize, aF32: i32, y: usize): void {
  const at = y + (<usize>j << 3);
  let sum = load<f64>(at);
  sum += w0 * element(r0, j, aF32);
  sum += w1 * element(r1, j, aF32);
  sum += w2 * element(r2, j, aF32);
  store<f64>(at, sum + w3 * element(r3, j, aF32));
}

/** Element j of a float64 or float32 row, as f64. */
// @ts-ignore: decorator
@inline function element(row: usize, j: i32, aF32: i32): f64 {
  return aF32 ? <f64>load<f32>(row + (<usize>j << 2)) : load<f64>(row + (<usize>j << 3));
}

/** gemv's transposed update row by row over rows [from, to): y += alpha·x[i]·A[i, :], rows with a zero weight skipped. */
function gemvRowsT(from: i32, to: i32, n: i32, alpha: f64, a: usize, lda: i32, aF32: i32, x: usize, y: usize): void {
  const as: usize = aF32 ? 2 : 3;
  for (let i = from; i < to; i++) {
    const weight = alpha * load<f64>(x + (<usize>i << 3));
    if (weight == 0) continue;
    const row = a + (<usize>(i * lda) << as);
    const vw = f64x2.splat(weight);
    let j = 0;
    for (; j + 1 < n; j += 2) {
      const o = <usize>j << 3;
      v128.store(y + o, f64x2.add(v128.load(y + o), f64x2.mul(vw, load2(row + (<usize>j << as), aF32 != 0))));
    }
    if (j < n) store<f64>(y + (<usize>j << 3), load<f64>(y + (<usize>j << 3)) + weight * element(row, j, aF32));
  }
}

/**
 * out[i] = x[rows[i], :]·w for the `count` listed rows of row-major X (d columns, float64 or
 * float32 `xF32`); rows are uint32 indices. A mini-batch's scores read in place: gathering the rows
 * into a block first was 18–26 % of an SGD fit (linear regression, linear SVM; --cpu-prof).
 */
export function gatherDot(count: i32, rows: usize, d: i32, x: usize, xF32: i32, w: usize, out: usize): void {
  const rowBytes = <usize>d << (xF32 ? 2 : 3);
  let first = 0;
  if (!xF32) {
    for (; first + 3 < count; first += 4) {
      const r = rows + (<usize>first << 2);
      gatherDot4(d, x + <usize>load<u32>(r) * rowBytes, x + <usize>load<u32>(r, 4) * rowBytes, x + <usize>load<u32>(r, 8) * rowBytes, x + <usize>load<u32>(r, 12) * rowBytes, w, out + (<usize>first << 3));
    }
  }
  for (let i = first; i < count; i++) {
    const row = x + <usize>load<u32>(rows + (<usize>i << 2)) * rowBytes;
    store<f64>(out + (<usize>i << 3), dot(d, row, xF32, w, 0));
  }
}

/**
 * Four rows' float64 dots at once, each accumulated exactly as `dot` does (same lanes, same order,
 * so the same bits): rows scattered through a large X each miss the cache, and four independent
 * streams keep four rows' memory reads in flight where one `dot` per row waits for each in turn.
 */
function gatherDot4(n: i32, a: usize, b: usize, c: usize, e: usize, y: usize, out: usize): void {
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  let b0 = f64x2.splat(0), b1 = f64x2.splat(0);
  let c0 = f64x2.splat(0), c1 = f64x2.splat(0);
  let e0 = f64x2.splat(0), e1 = f64x2.splat(0);
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const o = <usize>i << 3;
    const y0 = v128.load(y + o);
    const y1 = v128.load(y + o, 16);
    a0 = f64x2.add(a0, f64x2.mul(v128.load(a + o), y0));
    a1 = f64x2.add(a1, f64x2.mul(v128.load(a + o, 16), y1));
    b0 = f64x2.add(b0, f64x2.mul(v128.load(b + o), y0));
    b1 = f64x2.add(b1, f64x2.mul(v128.load(b + o, 16), y1));
    c0 = f64x2.add(c0, f64x2.mul(v128.load(c + o), y0));
    c1 = f64x2.add(c1, f64x2.mul(v128.load(c + o, 16), y1));
    e0 = f64x2.add(e0, f64x2.mul(v128.load(e + o), y0));
    e1 = f64x2.add(e1, f64x2.mul(v128.load(e + o, 16), y1));
  }
  const sa = f64x2.add(a0, a1);
  const sb = f64x2.add(b0, b1);
  const sc = f64x2.add(c0, c1);
  const se = f64x2.add(e0, e1);
  let ta = f64x2.extract_lane(sa, 0) + f64x2.extract_lane(sa, 1);
  let tb = f64x2.extract_lane(sb, 0) + f64x2.extract_lane(sb, 1);
  let tc = f64x2.extract_lane(sc, 0) + f64x2.extract_lane(sc, 1);
  let te = f64x2.extract_lane(se, 0) + f64x2.extract_lane(se, 1);
  for (; i < n; i++) {
    const o = <usize>i << 3;
    const yv = load<f64>(y + o);
    ta += load<f64>(a + o) * yv;
    tb += load<f64>(b + o) * yv;
    tc += load<f64>(c + o) * yv;
    te += load<f64>(e + o) * yv;
  }
  store<f64>(out, ta);
  store<f64>(out, tb, 8);
  store<f64>(out, tc, 16);
  store<f64>(out, te, 24);
}

/** y[c] += Σᵢ weights[i]·x[rows[i], c], rows in the order listed (the gradient of a mini-batch). */
export function gatherAxpy(count: i32, rows: usize, d: i32, x: usize, xF32: i32, weights: usize, y: usize): void {
  const rowBytes = <usize>d << (xF32 ? 2 : 3);
  const xs: usize = xF32 ? 2 : 3;
  for (let i = 0; i < count; i++) {
    const weight = load<f64>(weights + (<usize>i << 3));
    if (weight == 0) continue;
    const row = x + <usize>load<u32>(rows + (<usize>i << 2)) * rowBytes;
    const vw = f64x2.splat(weight);
    let j = 0;
    for (; j + 1 < d; j += 2) {
      const o = <usize>j << 3;
      v128.store(y + o, f64x2.add(v128.load(y + o), f64x2.mul(vw, load2(row + (<usize>j << xs), xF32 != 0))));
    }
    if (j < d) {
      const av = xF32 ? <f64>load<f32>(row + (<usize>j << 2)) : load<f64>(row + (<usize>j << 3));
      store<f64>(y + (<usize>j << 3), load<f64>(y + (<usize>j << 3)) + weight * av);
    }
  }
}
