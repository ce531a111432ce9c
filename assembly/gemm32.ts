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
    for (let p = 0; p < kc; p++) {
      for (let r = 0; r < MR32; r++) {
        store<f32>(dst, r < rows ? load<f32>(a + (<usize>((i + r) * aRow + p * aCol) << 2)) : 0);
        dst += 4;
      }
    }
  }
}

function packB32(kc: i32, nc: i32, b: usize, bRow: i32, bCol: i32, alpha: f32, dst: usize): void {
  for (let j = 0; j < nc; j += NR32) {
    const cols = min<i32>(NR32, nc - j);
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
