// Packed, cache-blocked float32 gemm: the same Goto/BLIS loop nest as gemm64.ts with a 4×8
// micro-kernel on f32x4 lanes (8 accumulators = 32 floats in registers). Accumulation is in float32
// within the micro-kernel, as in every sgemm (OpenBLAS, XNNPACK); the float64 path is gemm64.
//
// The module is built twice (package.json build:wasm): plain SIMD, and with relaxed SIMD, where
// the multiply-add is `f32x4.relaxed_madd` — one fused vfmadd231ps on this x64 (V8 picks FMA3 when
// the CPU has it, else mul+add). Measured at 1024³ (docs/notes/kernels.md, Session 2): 40–41
// GFLOP/s plain vs 47–50 relaxed, single thread. Why the plain kernel tops out near 40: per k-step
// it issues 6 loads + 8 mul + 8 add + loop overhead ≈ 26 instructions, and the core decodes ~6 per
// cycle, while the fused form needs 6 + 8 + overhead. Larger register blocks were tried (6×8, 5×8,
// 4×12, 8×8, and 4×8 unrolled twice): V8 schedules every splat load of a step first and then
// spills accumulators to the stack once more than 15 xmm registers are live — 19–26 GFLOP/s.
// MC/KC were swept (64–256 × 256–512): all within the noise of 128×512. The micro-kernels are in
// kernel32.ts; this file packs the operands and runs the loop nests around them.

import { MR32, NR32, edgeTile32, kernel32, kernel32InPlace, kernel32Pack } from './kernel32';

export const MC: i32 = 128; // packed A: MC×KC floats = 256 KiB (L2)
export const KC: i32 = 512; // 4×KC sliver of A (8 KiB) + KC×8 sliver of B (16 KiB) in L1
export const NC: i32 = 2048; // packed B: KC×NC floats = 4 MiB
export const DIRECT_A_MAX_N: i32 = 128; // see gemm32: read op(A) = A in place when n is at most this
// panelBlock32: shallower blocks pack the next panel on its own (a call per tile to the
// non-inlined kernel32Pack cost more: dense ∂W, k = 64, 0.35 → 0.37 ms).
export const OVERLAP_MIN_KC: i32 = 128;

/** Bytes of workspace gemm32 needs: packed A, packed B and one edge tile. */
export function gemm32WorkBytes(): i32 {
  return (MC * KC + KC * NC + MR32 * NR32) * 4;
}

export function packA32(mc: i32, kc: i32, a: usize, aRow: i32, aCol: i32, dst: usize): void {
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

export function packB32(kc: i32, nc: i32, b: usize, bRow: i32, bCol: i32, alpha: f32, dst: usize): void {
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
    if (bCol == 1) {
      // The last, partial panel of op(B) = B: zero the step's 8 lanes, then copy its `cols` values.
      let src = b + (<usize>j << 2);
      const stride = <usize>bRow << 2;
      const zero = f32x4.splat(0);
      for (let p = 0; p < kc; p++) {
        v128.store(dst, zero);
        v128.store(dst, zero, 16);
        for (let c = 0; c < cols; c++) store<f32>(dst + (<usize>c << 2), alpha * load<f32>(src + (<usize>c << 2)));
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

// One block of depth (kc) × width (nc) when op(A) has at most MC rows, so every panel of op(B) is
// used by one block of A only (conv2's ∂W: m = 64, n = 800, k = 4,096). Each kc×8 panel is packed
// into one of two 16 KiB buffers instead of the whole kc×nc block first (1.6 MB for ∂W, more than
// this core's 1 MiB L2). Packing B was ∂W's whole overhead over the micro-kernel (9.2 ms against
// 8.1 with the packing skipped): its reads of `cols`, 8 floats per row 3,200 bytes apart, miss the
// cache. So when op(B) = B, the next panel is packed by the kernels of the current one, each full
// sliver a share of its steps, one step every kc/share multiply-add steps (kernel32Pack), and the
// misses overlap compute: ∂W 9.2 → 8.4 ms. Same kernel, same kc blocks: bitwise equal.
function panelBlock32(m: i32, nc: i32, kc: i32, aBlock: usize, aRow: i32, aCol: i32, bBlock: usize, bRow: i32, bCol: i32, alpha: f32, cBlock: usize, ldcBytes: usize, packedA: usize, packedB: usize, tile: usize, keep: bool): void {
  packA32(m, kc, aBlock, aRow, aCol, packedA);
  const panelBytes = <usize>kc << 5;
  const rowBytes = <usize>bRow << 2;
  let packed = false; // whether the panel at jr is already in its buffer
  const slivers = m >> 2; // full slivers: they share the packing of the next panel
  const share = slivers > 0 ? (kc + slivers - 1) / slivers : kc;
  for (let jr = 0; jr < nc; jr += NR32) {
    const nr = min<i32>(NR32, nc - jr);
    const pb = packedB + (((<usize>jr >> 3) & 1) * panelBytes);
    if (!packed) packB32(kc, nr, bBlock + (<usize>(jr * bCol) << 2), bRow, bCol, alpha, pb);
    // The next panel is packed by this panel's kernels when it is full and op(B) = B.
    const next = jr + NR32;
    const overlap = bCol == 1 && m >= MR32 && kc >= OVERLAP_MIN_KC && next + NR32 <= nc;
    const nextPb = packedB + (((<usize>next >> 3) & 1) * panelBytes);
    for (let ir = 0; ir < m; ir += MR32) {
      const mr = min<i32>(MR32, m - ir);
      const pa = packedA + (<usize>(ir * kc) << 2);
      const cp = cBlock + <usize>ir * ldcBytes + (<usize>jr << 2);
      if (overlap && nr == NR32 && mr == MR32) {
        // Full sliver s packs steps [s·share, (s + 1)·share) of the next panel.
        const from = min<i32>(kc, (ir >> 2) * share);
        const rows = min<i32>(kc, from + share) - from;
        kernel32Pack(kc, pa, pb, cp, ldcBytes, keep, bBlock + <usize>from * rowBytes + (<usize>next << 2), rowBytes, nextPb + (<usize>from << 5), rows, alpha);
      } else if (mr == MR32 && nr == NR32) kernel32(kc, pa, pb, cp, ldcBytes, keep);
      else edgeTile32(kc, mr, nr, pa, 0, 0, pb, cp, ldcBytes, tile, keep);
    }
    packed = overlap && nr == NR32;
  }
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
  if (alpha == 0 || k == 0) {
    scaleC32(m, n, beta, c, ldc);
    return;
  }
  // Few column panels: read op(A) in place instead of packing it. Packing costs a pass over A per
  // block and pays back over the n/8 panels that reuse it; for the CNN's conv gemms with n = 25,
  // 32, 64 it did not (docs/notes/cnn-speed.md, Session 2b).
  const direct = n <= DIRECT_A_MAX_N;
  // Packed paths with beta = 0: C is not zero-filled, its old values are not read in the first
  // block of depth (keep = false). The direct path keeps the fill, so its kernel is unchanged.
  if (beta != 0 || direct) scaleC32(m, n, beta, c, ldc);
  const aRow = transA ? 1 : lda;
  const aCol = transA ? lda : 1;
  const bRow = transB ? 1 : ldb;
  const bCol = transB ? ldb : 1;
  const packedA = work;
  const packedB = work + (<usize>(MC * KC) << 2);
  const tile = packedB + (<usize>(KC * NC) << 2);
  const ldcBytes = <usize>ldc << 2;
  const aRowBytes = <usize>aRow << 2; // from row i of op(A) to row i + 1
  const aStepBytes = <usize>aCol << 2; // from column p of op(A) to column p + 1
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min<i32>(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min<i32>(KC, k - pc);
      const keep = beta != 0 || pc > 0;
      if (!direct && m <= MC) {
        panelBlock32(m, nc, kc, a + (<usize>(pc * aCol) << 2), aRow, aCol, b + (<usize>(pc * bRow + jc * bCol) << 2), bRow, bCol, alpha, c + (<usize>jc << 2), ldcBytes, packedA, packedB, tile, keep);
        continue;
      }
      packB32(kc, nc, b + (<usize>(pc * bRow + jc * bCol) << 2), bRow, bCol, alpha, packedB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min<i32>(MC, m - ic);
        const aBlock = a + (<usize>(ic * aRow + pc * aCol) << 2);
        const cBlock = c + (<usize>(ic * ldc + jc) << 2);
        if (direct) {
          // Only the last, partial sliver (if any) is packed; full slivers are read in place. Rows
          // outermost, so a sliver of A (4×kc floats, ≤ 8 KiB) stays in L1 across the panels of B.
          const full = mc & ~(MR32 - 1);
          if (full < mc) packA32(mc - full, kc, aBlock + <usize>full * aRowBytes, aRow, aCol, packedA + (<usize>(full * kc) << 2));
          for (let ir = 0; ir < mc; ir += MR32) {
            const mr = min<i32>(MR32, mc - ir);
            const pa = mr == MR32 ? aBlock + <usize>ir * aRowBytes : packedA + (<usize>(ir * kc) << 2);
            const laneBytes = mr == MR32 ? aRowBytes : 0;
            for (let jr = 0; jr < nc; jr += NR32) {
              const nr = min<i32>(NR32, nc - jr);
              const pb = packedB + (<usize>(jr * kc) << 2);
              const cp = cBlock + <usize>ir * ldcBytes + (<usize>jr << 2);
              if (mr == MR32 && nr == NR32) kernel32InPlace(kc, pa, laneBytes, aStepBytes, pb, cp, ldcBytes, true);
              else edgeTile32(kc, mr, nr, pa, laneBytes, aStepBytes, pb, cp, ldcBytes, tile, true);
            }
          }
        } else {
          packA32(mc, kc, aBlock, aRow, aCol, packedA);
          for (let jr = 0; jr < nc; jr += NR32) {
            const nr = min<i32>(NR32, nc - jr);
            const pb = packedB + (<usize>(jr * kc) << 2);
            for (let ir = 0; ir < mc; ir += MR32) {
              const mr = min<i32>(MR32, mc - ir);
              const pa = packedA + (<usize>(ir * kc) << 2);
              const cp = cBlock + <usize>ir * ldcBytes + (<usize>jr << 2);
              if (mr == MR32 && nr == NR32) kernel32(kc, pa, pb, cp, ldcBytes, keep);
              else edgeTile32(kc, mr, nr, pa, 0, 0, pb, cp, ldcBytes, tile, keep);
            }
          }
        }
      }
    }
  }
}
