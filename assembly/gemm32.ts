// Packed, cache-blocked float32 gemm: the same Goto/BLIS loop nest as gemm64.ts with a 4×8
// micro-kernel on f32x4 lanes (8 accumulators = 32 floats in registers). Accumulation is in float32
// within the micro-kernel, as in every sgemm (OpenBLAS, XNNPACK); the float64 path is gemm64.

export const MR32: i32 = 4;
export const NR32: i32 = 8;
const MC: i32 = 128; // packed A: MC×KC floats = 256 KiB (L2)
const KC: i32 = 512; // 4×KC sliver of A (8 KiB) + KC×8 sliver of B (16 KiB) in L1
const NC: i32 = 2048; // packed B: KC×NC floats = 4 MiB

/** Bytes of workspace gemm32 needs: packed A, packed B and one edge tile. */
export function gemm32WorkBytes(): i32 {
  return (MC * KC + KC * NC + MR32 * NR32) * 4;
}

function packA32(mc: i32, kc: i32, a: usize, aRow: i32, aCol: i32, dst: usize): void {
  for (let i = 0; i < mc; i += MR32) {
    const rows = min<i32>(MR32, mc - i);
    if (rows == MR32 && aRow == 1) {
      // op(A) = Aᵀ: the 4 values of one step are contiguous.
      let src = a + (<usize>i << 2);
      const stride = <usize>aCol << 2;
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(src));
        src += stride;
        dst += 16;
      }
      continue;
    }
    if (rows == MR32 && aCol == 1) {
      // op(A) = A: a 4×4 transpose per 4 steps (two rounds of lane shuffles).
      const stride = <usize>aRow << 2;
      const r0 = a + <usize>i * stride;
      const r1 = r0 + stride;
      const r2 = r1 + stride;
      const r3 = r2 + stride;
      let p = 0;
      for (; p + 3 < kc; p += 4) {
        const o = <usize>p << 2;
        const v0 = v128.load(r0 + o);
        const v1 = v128.load(r1 + o);
        const v2 = v128.load(r2 + o);
        const v3 = v128.load(r3 + o);
        const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5); // a0 b0 a1 b1
        const t1 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5); // c0 d0 c1 d1
        const t2 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7); // a2 b2 a3 b3
        const t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7); // c2 d2 c3 d3
        v128.store(dst, v128.shuffle<f64>(t0, t1, 0, 2));
        v128.store(dst, v128.shuffle<f64>(t0, t1, 1, 3), 16);
        v128.store(dst, v128.shuffle<f64>(t2, t3, 0, 2), 32);
        v128.store(dst, v128.shuffle<f64>(t2, t3, 1, 3), 48);
        dst += 64;
      }
      for (; p < kc; p++) {
        const o = <usize>p << 2;
        store<f32>(dst, load<f32>(r0 + o));
        store<f32>(dst, load<f32>(r1 + o), 4);
        store<f32>(dst, load<f32>(r2 + o), 8);
        store<f32>(dst, load<f32>(r3 + o), 12);
        dst += 16;
      }
      continue;
    }
    for (let p = 0; p < kc; p++) {
      for (let r = 0; r < MR32; r++) {
        store<f32>(dst, r < rows ? load<f32>(a + (<usize>((i + r) * aRow + p * aCol) << 2)) : 0);
        dst += 4;
      }
    }
  }
}

function packB32(kc: i32, nc: i32, b: usize, bRow: i32, bCol: i32, alpha: f32, dst: usize): void {
  const va = f32x4.splat(alpha);
  for (let j = 0; j < nc; j += NR32) {
    const cols = min<i32>(NR32, nc - j);
    if (cols == NR32 && bCol == 1) {
      // op(B) = B: the 8 values of one step are contiguous.
      let src = b + (<usize>j << 2);
      const stride = <usize>bRow << 2;
      for (let p = 0; p < kc; p++) {
        v128.store(dst, f32x4.mul(va, v128.load(src)));
        v128.store(dst, f32x4.mul(va, v128.load(src, 16)), 16);
        src += stride;
        dst += 32;
      }
      continue;
    }
    for (let p = 0; p < kc; p++) {
      for (let c = 0; c < NR32; c++) {
        store<f32>(dst, c < cols ? alpha * load<f32>(b + (<usize>(p * bRow + (j + c) * bCol) << 2)) : 0);
        dst += 4;
      }
    }
  }
}

// C[0:4, 0:8] += packedA sliver · packedB sliver over kc steps.
// @ts-ignore: decorator
@inline function kernel32(kc: i32, pa: usize, pb: usize, c: usize, ldcBytes: usize): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    pa += 16;
    pb += 32;
  }
  v128.store(c, f32x4.add(v128.load(c), c00));
  v128.store(c, f32x4.add(v128.load(c, 16), c01), 16);
  c += ldcBytes;
  v128.store(c, f32x4.add(v128.load(c), c10));
  v128.store(c, f32x4.add(v128.load(c, 16), c11), 16);
  c += ldcBytes;
  v128.store(c, f32x4.add(v128.load(c), c20));
  v128.store(c, f32x4.add(v128.load(c, 16), c21), 16);
  c += ldcBytes;
  v128.store(c, f32x4.add(v128.load(c), c30));
  v128.store(c, f32x4.add(v128.load(c, 16), c31), 16);
}

function scaleC32(m: i32, n: i32, beta: f32, c: usize, ldc: i32): void {
  if (beta == 1) return;
  for (let i = 0; i < m; i++) {
    const row = c + (<usize>(i * ldc) << 2);
    if (beta == 0) memory.fill(row, 0, <usize>n << 2);
    else for (let j = 0; j < n; j++) store<f32>(row + (<usize>j << 2), beta * load<f32>(row + (<usize>j << 2)));
  }
}

/** C = alpha·op(A)·op(B) + beta·C, all float32. */
export function gemm32(
  transA: i32, transB: i32, m: i32, n: i32, k: i32, alpha: f32,
  a: usize, lda: i32, b: usize, ldb: i32, beta: f32, c: usize, ldc: i32, work: usize,
): void {
  scaleC32(m, n, beta, c, ldc);
  if (alpha == 0 || k == 0) return;
  const aRow = transA ? 1 : lda;
  const aCol = transA ? lda : 1;
  const bRow = transB ? 1 : ldb;
  const bCol = transB ? ldb : 1;
  const packedA = work;
  const packedB = work + (<usize>(MC * KC) << 2);
  const tile = packedB + (<usize>(KC * NC) << 2);
  const ldcBytes = <usize>ldc << 2;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min<i32>(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min<i32>(KC, k - pc);
      packB32(kc, nc, b + (<usize>(pc * bRow + jc * bCol) << 2), bRow, bCol, alpha, packedB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min<i32>(MC, m - ic);
        packA32(mc, kc, a + (<usize>(ic * aRow + pc * aCol) << 2), aRow, aCol, packedA);
        for (let jr = 0; jr < nc; jr += NR32) {
          const nr = min<i32>(NR32, nc - jr);
          const pb = packedB + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR32) {
            const mr = min<i32>(MR32, mc - ir);
            const pa = packedA + (<usize>(ir * kc) << 2);
            const cp = c + (<usize>((ic + ir) * ldc + jc + jr) << 2);
            if (mr == MR32 && nr == NR32) {
              kernel32(kc, pa, pb, cp, ldcBytes);
            } else {
              memory.fill(tile, 0, <usize>(MR32 * NR32) << 2);
              kernel32(kc, pa, pb, tile, <usize>NR32 << 2);
              for (let r = 0; r < mr; r++) {
                for (let q = 0; q < nr; q++) {
                  const to = cp + <usize>r * ldcBytes + (<usize>q << 2);
                  store<f32>(to, load<f32>(to) + load<f32>(tile + (<usize>(r * NR32 + q) << 2)));
                }
              }
            }
          }
        }
      }
    }
  }
}
