// Packed, cache-blocked float64 gemm after Goto & van de Geijn ("Anatomy of high-performance matrix
// multiplication", TOMS 2008): a KC×NC panel of op(B) is packed once per (jc, pc) block, an MC×KC
// block of op(A) once per (ic) block, and a 4×4 register-blocked micro-kernel multiplies a 4-row
// sliver of packed A by a 4-column sliver of packed B with f64x2 lanes, keeping 8 accumulators
// (16 doubles) in registers. x64 V8 exposes 16 xmm registers to Wasm SIMD (one is its scratch):
// 8 accumulators + 2 B vectors + 1 A splat leave room; a 6×4 variant (12 accumulators) spilled.
// All pointers are byte addresses in linear memory; strides (lda, ldb, ldc) count elements.

export const MR64: i32 = 4;
export const NR64: i32 = 4;
const MC: i32 = 128; // packed A (MC×KC doubles = 256 KiB) stays in L2
const KC: i32 = 256; // a 4×KC sliver of A and a KC×4 sliver of B (8 KiB each) stay in L1
const NC: i32 = 2048; // packed B panel (KC×NC doubles = 4 MiB) streams from L3

/** Bytes of workspace gemm64 needs: packed A, packed B and one edge tile. */
export function gemm64WorkBytes(): i32 {
  return (MC * KC + KC * NC + MR64 * NR64) * 8;
}

// op(A)(i, p) = a[i*aRow + p*aCol]; packs mc×kc of it into MR-row slivers, zero-padded to MR.
function packA64(mc: i32, kc: i32, a: usize, aRow: i32, aCol: i32, aF32: bool, dst: usize): void {
  for (let i = 0; i < mc; i += MR64) {
    const rows = min<i32>(MR64, mc - i);
    // Fast paths for full slivers of float64 data; packing was a third of syrk's time without them.
    if (rows == MR64 && !aF32 && aRow == 1) {
      // op(A) = Aᵀ: the 4 values of one step are contiguous.
      let src = a + (<usize>i << 3);
      const stride = <usize>aCol << 3;
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += stride;
        dst += 32;
      }
      continue;
    }
    if (rows == MR64 && aF32 && aRow == 1) {
      // op(A) = Aᵀ of float32 data (syrk on float32 X): widen 4 contiguous floats per step.
      let src = a + (<usize>i << 2);
      const stride = <usize>aCol << 2;
      for (let p = 0; p < kc; p++) {
        const v = v128.load(src);
        v128.store(dst, f64x2.promote_low_f32x4(v));
        v128.store(dst, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)), 16);
        src += stride;
        dst += 32;
      }
      continue;
    }
    if (rows == MR64 && !aF32 && aCol == 1) {
      // op(A) = A: transpose 4 rows × 2 columns at a time with lane shuffles.
      const stride = <usize>aRow << 3;
      const r0 = a + <usize>i * stride;
      const r1 = r0 + stride;
      const r2 = r1 + stride;
      const r3 = r2 + stride;
      let p = 0;
      for (; p + 1 < kc; p += 2) {
        const o = <usize>p << 3;
        const v0 = v128.load(r0 + o);
        const v1 = v128.load(r1 + o);
        const v2 = v128.load(r2 + o);
        const v3 = v128.load(r3 + o);
        v128.store(dst, v128.shuffle<f64>(v0, v1, 0, 2));
        v128.store(dst, v128.shuffle<f64>(v2, v3, 0, 2), 16);
        v128.store(dst, v128.shuffle<f64>(v0, v1, 1, 3), 32);
        v128.store(dst, v128.shuffle<f64>(v2, v3, 1, 3), 48);
        dst += 64;
      }
      if (p < kc) {
        const o = <usize>p << 3;
        store<f64>(dst, load<f64>(r0 + o));
        store<f64>(dst, load<f64>(r1 + o), 8);
        store<f64>(dst, load<f64>(r2 + o), 16);
        store<f64>(dst, load<f64>(r3 + o), 24);
        dst += 32;
      }
      continue;
    }
    for (let p = 0; p < kc; p++) {
      for (let r = 0; r < MR64; r++) {
        let v: f64 = 0;
        if (r < rows) {
          const index = <usize>((i + r) * aRow + p * aCol);
          v = aF32 ? <f64>load<f32>(a + (index << 2)) : load<f64>(a + (index << 3));
        }
        store<f64>(dst, v);
        dst += 8;
      }
    }
  }
}

// op(B)(p, j) = b[p*bRow + j*bCol]; packs alpha·(kc×nc of it) into NR-column slivers, zero-padded.
function packB64(kc: i32, nc: i32, b: usize, bRow: i32, bCol: i32, bF32: bool, alpha: f64, dst: usize): void {
  const va = f64x2.splat(alpha);
  for (let j = 0; j < nc; j += NR64) {
    const cols = min<i32>(NR64, nc - j);
    if (cols == NR64 && bF32 && bCol == 1) {
      // op(B) = B of float32 data: widen 4 contiguous floats per step.
      let src = b + (<usize>j << 2);
      const stride = <usize>bRow << 2;
      for (let p = 0; p < kc; p++) {
        const v = v128.load(src);
        v128.store(dst, f64x2.mul(va, f64x2.promote_low_f32x4(v)));
        v128.store(dst, f64x2.mul(va, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1))), 16);
        src += stride;
        dst += 32;
      }
      continue;
    }
    if (cols == NR64 && !bF32 && bCol == 1) {
      // op(B) = B: the 4 values of one step are contiguous.
      let src = b + (<usize>j << 3);
      const stride = <usize>bRow << 3;
      for (let p = 0; p < kc; p++) {
        v128.store(dst, f64x2.mul(va, v128.load(src)));
        v128.store(dst, f64x2.mul(va, v128.load(src, 16)), 16);
        src += stride;
        dst += 32;
      }
      continue;
    }
    for (let p = 0; p < kc; p++) {
      for (let c = 0; c < NR64; c++) {
        let v: f64 = 0;
        if (c < cols) {
          const index = <usize>(p * bRow + (j + c) * bCol);
          v = alpha * (bF32 ? <f64>load<f32>(b + (index << 2)) : load<f64>(b + (index << 3)));
        }
        store<f64>(dst, v);
        dst += 8;
      }
    }
  }
}

// c + a·b per lane: fused (one rounding) in the relaxed-SIMD build on FMA hardware (see gemm32.ts),
// else a product rounded to float64 then a sum. The branch is resolved at compile time.
// @ts-ignore: decorator
@inline function madd64(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  return f64x2.add(c, f64x2.mul(a, b));
}

// C[0:4, 0:4] += packedA sliver · packedB sliver over kc steps; ldcBytes is the row stride of C.
// @ts-ignore: decorator
@inline function kernel64(kc: i32, pa: usize, pb: usize, c: usize, ldcBytes: usize): void {
  let c00 = f64x2.splat(0);
  let c01 = f64x2.splat(0);
  let c10 = f64x2.splat(0);
  let c11 = f64x2.splat(0);
  let c20 = f64x2.splat(0);
  let c21 = f64x2.splat(0);
  let c30 = f64x2.splat(0);
  let c31 = f64x2.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load64_splat(pa);
    c00 = madd64(a, b0, c00);
    c01 = madd64(a, b1, c01);
    a = v128.load64_splat(pa, 8);
    c10 = madd64(a, b0, c10);
    c11 = madd64(a, b1, c11);
    a = v128.load64_splat(pa, 16);
    c20 = madd64(a, b0, c20);
    c21 = madd64(a, b1, c21);
    a = v128.load64_splat(pa, 24);
    c30 = madd64(a, b0, c30);
    c31 = madd64(a, b1, c31);
    pa += 32;
    pb += 32;
  }
  v128.store(c, f64x2.add(v128.load(c), c00));
  v128.store(c, f64x2.add(v128.load(c, 16), c01), 16);
  c += ldcBytes;
  v128.store(c, f64x2.add(v128.load(c), c10));
  v128.store(c, f64x2.add(v128.load(c, 16), c11), 16);
  c += ldcBytes;
  v128.store(c, f64x2.add(v128.load(c), c20));
  v128.store(c, f64x2.add(v128.load(c, 16), c21), 16);
  c += ldcBytes;
  v128.store(c, f64x2.add(v128.load(c), c30));
  v128.store(c, f64x2.add(v128.load(c, 16), c31), 16);
}

function scaleC64(m: i32, n: i32, beta: f64, c: usize, ldc: i32): void {
  if (beta == 1) return;
  for (let i = 0; i < m; i++) {
    const row = c + (<usize>(i * ldc) << 3);
    // beta = 0 overwrites (NaN or garbage in C does not survive), as BLAS does.
    if (beta == 0) memory.fill(row, 0, <usize>n << 3);
    else for (let j = 0; j < n; j++) store<f64>(row + (<usize>j << 3), beta * load<f64>(row + (<usize>j << 3)));
  }
}

/**
 * C = alpha·op(A)·op(B) + beta·C in float64 (A or B may be stored as float32: `aF32`/`bF32`).
 * `upper` != 0 computes only micro-tiles touching the upper triangle (syrk uses it).
 */
export function gemm64(
  transA: i32, transB: i32, m: i32, n: i32, k: i32, alpha: f64,
  a: usize, lda: i32, aF32: i32, b: usize, ldb: i32, bF32: i32,
  beta: f64, c: usize, ldc: i32, work: usize, upper: i32,
): void {
  scaleC64(m, n, beta, c, ldc);
  if (alpha == 0 || k == 0) return;
  const aRow = transA ? 1 : lda;
  const aCol = transA ? lda : 1;
  const bRow = transB ? 1 : ldb;
  const bCol = transB ? ldb : 1;
  const aShift: usize = aF32 ? 2 : 3;
  const bShift: usize = bF32 ? 2 : 3;
  const packedA = work;
  const packedB = work + (<usize>(MC * KC) << 3);
  const tile = packedB + (<usize>(KC * NC) << 3);
  const ldcBytes = <usize>ldc << 3;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min<i32>(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min<i32>(KC, k - pc);
      packB64(kc, nc, b + (<usize>(pc * bRow + jc * bCol) << bShift), bRow, bCol, bF32 != 0, alpha, packedB);
      for (let ic = 0; ic < m; ic += MC) {
        if (upper && ic >= jc + nc) break;
        const mc = min<i32>(MC, m - ic);
        packA64(mc, kc, a + (<usize>(ic * aRow + pc * aCol) << aShift), aRow, aCol, aF32 != 0, packedA);
        for (let jr = 0; jr < nc; jr += NR64) {
          const nr = min<i32>(NR64, nc - jr);
          const pb = packedB + (<usize>(jr * kc) << 3);
          for (let ir = 0; ir < mc; ir += MR64) {
            if (upper && ic + ir > jc + jr + nr - 1) break;
            const mr = min<i32>(MR64, mc - ir);
            const pa = packedA + (<usize>(ir * kc) << 3);
            const cp = c + (<usize>((ic + ir) * ldc + jc + jr) << 3);
            if (mr == MR64 && nr == NR64) {
              kernel64(kc, pa, pb, cp, ldcBytes);
            } else {
              memory.fill(tile, 0, <usize>(MR64 * NR64) << 3);
              kernel64(kc, pa, pb, tile, <usize>NR64 << 3);
              for (let r = 0; r < mr; r++) {
                for (let q = 0; q < nr; q++) {
                  const to = cp + <usize>r * ldcBytes + (<usize>q << 3);
                  store<f64>(to, load<f64>(to) + load<f64>(tile + (<usize>(r * NR64 + q) << 3)));
                }
              }
            }
          }
        }
      }
    }
  }
}
